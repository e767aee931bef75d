"""A redesigned article template: the generic reading (crawler/cms/fallback.py) keeps data flowing.

The replica's ``redesigned`` fault re-lays every meeting article of a portal (the seed aside) in
a template that portal never had, so the spider's selectors find no title and no body.  Each
spider crawls such a replica as a user would (``scrapy crawl NAME -s PORTAL_MIRROR=…``, article
pages parsed in the parser worker): every meeting is still yielded, title, published_at and
body as the replica means them, each generic reading is counted and the run's health is a
warning that names the portal.  The in-process path (``PARSE_PROCESSES=0``) reads the same pages.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import html as lxml_html

from crawler.cms import fallback
from crawler.runtime.offline import OfflineParser
from crawler.replica import build_site
from crawler.replica.faults import redesigned
from crawler.replica.process import running_replica
from crawler.store import Store

ROOT = Path(__file__).resolve().parent.parent
SCRAPY = str(Path(sys.executable).parent / "scrapy")
SPIDERS = ["yingkou", "beipiao", "laishan", "zhanqian", "jining"]
ARTICLES, SEED = 12, 5
FIELDS = ("title", "published_at", "body")


@pytest.fixture(scope="module")
def crawls(tmp_path_factory):
    """Every spider against a replica whose article template changed on every portal."""
    out = tmp_path_factory.mktemp("redesigned")
    site = build_site(articles=ARTICLES, seed=SEED)
    with running_replica(articles=ARTICLES, seed=SEED, faults={n: "redesigned" for n in SPIDERS}) as origin:
        procs = {}
        for name in SPIDERS:
            cmd = [SCRAPY, "crawl", name, "-O", str(out / f"{name}.jsonl"), "-s", f"PORTAL_MIRROR={origin}",
                   "-s", f"MEETINGS_DB=sqlite:///{out / name}.db", "-s", "DOWNLOAD_DELAY=0",
                   "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "PARSE_PROCESSES=1"]
            procs[name] = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        logs = {}
        for name, proc in procs.items():
            _, logs[name] = proc.communicate(timeout=300)
            assert proc.returncode == 0, logs[name][-3000:]
    results = {}
    for name in SPIDERS:
        items = [json.loads(line) for line in (out / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()]
        store = Store(f"sqlite:///{out / name}.db")
        try:
            stats = store.runs()[-1]["stats"]
        finally:
            store.close()
        results[name] = (items, stats, logs[name])
    return site, results


@pytest.mark.parametrize("name", SPIDERS)
def test_redesigned_articles_are_read_generically_and_health_warns(name, crawls):
    site, results = crawls
    items, stats, log = results[name]
    portal = site.portals[name]
    relaid = {portal.url_of(e): portal.expected(e) for e in portal.entries if e.meeting and not e.seed}
    got = {item["url"]: item for item in items}
    assert sorted(set(site.meeting_urls(name)) - set(got)) == [], "meetings dropped"
    wrong = {url: [f for f in FIELDS if got[url][f] != want[f]] for url, want in relaid.items()}
    assert {u: f for u, f in wrong.items() if f} == {}
    assert stats["article/fallback"] == len(relaid)
    assert not any(k.startswith("article/dropped/") for k in stats)
    assert stats["health/status"] == "warn"
    warnings = [w for w in stats["health/warnings"] if w.startswith("fallback:")]
    assert len(warnings) == 1 and name in warnings[0] and f"{len(relaid)} of" in warnings[0]
    assert f"health warning {name} [fallback]" in log


@pytest.mark.parametrize("name", SPIDERS)
def test_in_process_parse_reads_a_redesigned_page(name):
    site = build_site(articles=6, seed=SEED)
    portal = site.portals[name]
    parser = OfflineParser(name)
    entries = [e for e in portal.entries if e.meeting and not e.seed]
    for e in entries:
        page = redesigned(portal, e)
        response = parser.response(portal.url_of(e), page.body, dict(page.headers))
        item = parser.parse(response)
        assert item is not None
        want = portal.expected(e)
        assert {f: item[f] for f in FIELDS} == {f: want[f] for f in FIELDS}
    assert parser.stats.get_value("article/fallback") == len(entries)


def test_a_page_the_selectors_read_never_takes_the_fallback():
    site = build_site(articles=6, seed=SEED)
    portal = site.portals["laishan"]
    parser = OfflineParser("laishan")
    for e in [e for e in portal.entries if e.meeting]:
        assert parser.parse(parser.response(portal.url_of(e), portal.page(e), {"Content-Type": portal.html_type}))
    assert parser.stats.get_value("article/fallback") is None


# Pages written for these tests: how article pages of other sites are laid out.
_LABELLED_EVERYWHERE = """<html><head><title>县政府召开第12次常务会议--某县人民政府网</title></head><body>
<div class="top"><a href="/">网站首页</a><a href="/xw/">新闻动态</a><a href="/gk/">信息公开</a></div>
<div class="ct"><div class="ct-l"><div class="ttl">县政府召开第12次常务会议</div>
<table class="meta"><tr><td>索引号：</td><td>0001-2024-00077</td><td>发布日期:</td><td>2024年3月6日</td></tr>
<tr><td>来源：</td><td>县政府办公室</td></tr></table>
<div id="zw"><div><p>3月5日，县长钱七主持召开第12次县政府常务会议。</p><p>会议研究了春季植树和水利设施维修工作。</p>
<p>副县长孙八、周九参加会议。</p></div></div></div>
<div class="ct-r"><ul><li><a href="/a">全县春耕生产推进会召开</a></li><li><a href="/b">县领导调研重点项目建设情况</a></li>
<li><a href="/c">县政府召开防汛工作会议部署汛期各项工作</a></li></ul></div></div>
<div class="bottom">版权所有：某县人民政府　地址：某县人民路1号</div></body></html>"""


def test_labelled_cells_anywhere_and_the_title_the_page_title_repeats():
    fields = fallback.article_fields(lxml_html.fromstring(_LABELLED_EVERYWHERE), "http://example.gov.cn/a/1.html")
    assert fields["title"] == "县政府召开第12次常务会议"
    assert fields["published_at"] == "2024年3月6日"
    assert fields["source"] == "县政府办公室"
    assert fields["index_number"] == "0001-2024-00077"
    assert fields["body"].split("\n") == ["3月5日，县长钱七主持召开第12次县政府常务会议。", "会议研究了春季植树和水利设施维修工作。",
                                          "副县长孙八、周九参加会议。"]


def test_a_page_with_no_article_gives_nothing():
    menu = "<html><head><title>栏目</title></head><body><ul>" + "".join(
        f"<li><a href='/{i}'>第{i}条新闻标题比较长的链接文字</a></li>" for i in range(30)) + "</ul></body></html>"
    assert fallback.recover({"title": None, "body": ""}, lxml_html.fromstring(menu), "http://example.gov.cn/") is None


_DIV_PARAGRAPHS = """<html><head><meta name="PubDate" content="2023-11-02 09:30"><title>某区门户</title></head><body>
<div class="hd"><h1>某区人民政府</h1></div>
<div class="detail"><div class="detail-title"><h2>区长吴强主持召开区政府第30次常务会议</h2></div>
<div class="detail-body">
<div style="text-indent:2em">11月1日,区长<span>吴强</span>主持召开区政府第30次常务会议。</div>
<div style="text-indent:2em">会议听取了冬季供暖准备情况的汇报,研究了老旧小区改造计划。</div>
<div><img src="/img/1.jpg"></div>
<div style="text-indent:2em">副区长邓华、马力参加会议。</div></div></div>
<div class="ft">Copyright 某区人民政府 版权所有</div></body></html>"""


def test_paragraphs_written_as_divs_and_the_heading_next_to_the_site_logo():
    fields = fallback.article_fields(lxml_html.fromstring(_DIV_PARAGRAPHS), "http://example.gov.cn/b/2.html")
    assert fields["title"] == "区长吴强主持召开区政府第30次常务会议"  # not the logo's heading
    assert fields["published_at"] == "2023-11-02 09:30"
    assert fields["body"].split("\n") == ["11月1日,区长吴强主持召开区政府第30次常务会议。",
                                          "会议听取了冬季供暖准备情况的汇报,研究了老旧小区改造计划。",
                                          "副区长邓华、马力参加会议。"]
