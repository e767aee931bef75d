"""Portals as configuration: registry entries are spiders, `scrapy portal add` writes them,
`scrapy portal check` reads them again."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from urllib.parse import urlsplit
from pathlib import Path

import pytest
from scrapy.settings import Settings

from crawler.registry import RegistryError, registry_spiders, spider_class
from crawler.replica import build_site
from crawler.replica.compare import mismatches
from crawler.replica.process import running_replica

ROOT = Path(__file__).resolve().parent.parent
SCRAPY = str(Path(sys.executable).parent / "scrapy")
ARTICLES, SEED = 12, 4
HOSTS = {"yingkou": "www.yingkou.gov.cn", "beipiao": "www.bp.gov.cn", "laishan": "www.ytlaishan.gov.cn",
         "zhanqian": "www.ykzq.gov.cn", "jining": "jining.iqilu.com"}


def scrapy(*args, timeout=300):
    return subprocess.run([SCRAPY, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def replica():
    with running_replica(articles=ARTICLES, seed=SEED) as origin:
        yield origin, build_site(articles=ARTICLES, seed=SEED)


def write_registry(path: Path, entries: dict) -> Path:
    import tomli_w

    path.write_text(tomli_w.dumps({"portals": entries}), encoding="utf-8")
    return path


def test_an_entry_is_a_spider_with_its_generations_built(tmp_path):
    reg = write_registry(tmp_path / "r.toml", {"county_a": {
        "display_name": "某县人民政府", "hosts": ["www.a.example.gov.cn"],
        "start_urls": ["http://www.a.example.gov.cn/col/col7/index.html"],
        "generations": ["jcms", {"generation": "static", "list_items": "ul.list > li"}],
        "skip_titles": [["local_news", "^某镇"]],
    }})
    spiders = registry_spiders(Settings({"PORTAL_REGISTRY": [str(reg)]}))
    cls = spiders["county_a"]
    assert cls.allowed_domains == ["www.a.example.gov.cn"]
    assert [g.name for g in cls.generations] == ["jcms", "static"]
    assert cls.generations[1].list_items == "ul.list > li"
    assert cls.skip_titles[0][1].search("某镇召开会议")


def test_an_entry_without_generations_tries_every_one_the_static_list_last():
    cls = spider_class("open", {"hosts": ["h.example"], "start_urls": ["http://h.example/list/"]})
    names = [g.name for g in cls.generations]
    assert {"jcms", "epoint", "static"} <= set(names) and names[-1] == "static"


@pytest.mark.parametrize("entry,message", [
    ({"hosts": ["h.example"], "start_urls": ["http://h.example/"], "generation": "jcms"}, "unknown key"),
    ({"hosts": ["h.example"], "start_urls": ["http://h.example/"], "generations": ["cms9"]}, "unknown generation 'cms9'"),
    ({"hosts": ["h.example"], "start_urls": ["http://other.example/"]}, "not on the portal's hosts"),
    ({"hosts": [], "start_urls": ["http://h.example/"]}, "hosts must be"),
    ({"hosts": ["h.example"], "start_urls": ["h.example/list"]}, "not an absolute http"),
    ({"hosts": ["h.example"], "start_urls": ["http://h.example/"],
      "generations": [{"generation": "static", "list_itemz": "li"}]}, "no option 'list_itemz'"),
])
def test_a_bad_entry_is_refused_naming_file_and_entry(entry, message):
    with pytest.raises(RegistryError, match=message) as info:
        spider_class("p1", entry, "extra.toml")
    assert "extra.toml [portals.p1]" in str(info.value)


def test_scrapy_list_shows_registry_entries(tmp_path):
    reg = write_registry(tmp_path / "r.toml", {"county_b": {"hosts": ["b.example"], "start_urls": ["http://b.example/"]}})
    result = scrapy("list", "-s", f"PORTAL_REGISTRY=portals.toml,{reg}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == sorted(["beipiao", "county_b", "jining", "laishan", "yingkou", "zhanqian"])


@pytest.mark.parametrize("portal", list(HOSTS))
def test_a_registry_only_portal_is_crawled_exactly(portal, replica, tmp_path):
    """No Python for the portal: hosts and a listing URL; the generation is recognised."""
    origin, site = replica
    entry = {"hosts": [HOSTS[portal]], "start_urls": [site.list_urls(portal)]}
    if portal == "jining":  # the channel lists county news too, which are not the city's meetings
        entry["skip_titles"] = [["local_news", "^(?:济宁)?(?:任城|兖州|曲阜|邹城|微山|鱼台|金乡|嘉祥|汶上|泗水|梁山|高新区|太白湖|经开区|北湖)"]]
    name = f"reg_{portal}"
    reg = write_registry(tmp_path / "r.toml", {name: entry})
    out = tmp_path / "out.jsonl"
    result = scrapy("crawl", name, "-s", f"PORTAL_REGISTRY={reg}", "-s", f"PORTAL_MIRROR={origin}",
                    "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0", "-O", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    items = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    expected = {e["url"]: {**e, "portal": name} for e in site.expected_items(portal)}
    urls = [i["url"] for i in items]
    assert len(urls) == len(set(urls)) and set(urls) == set(expected)
    assert {i["url"]: p for i in items if (p := mismatches(i, expected[i["url"]]))} == {}


def test_portal_add_writes_an_entry_that_crawls_the_whole_set(replica, tmp_path):
    origin, site = replica
    reg = tmp_path / "portals.toml"
    reg.write_text("# my portals\n", encoding="utf-8")
    url = site.list_urls("beipiao")
    result = scrapy("portal", "add", url, "--name", "bp2", "--registry", str(reg), "-s", f"PORTAL_MIRROR={origin}",
                    "-s", f"PORTAL_REGISTRY={reg}")
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert "generation: static" in result.stdout
    assert "title" in result.stdout and "meeting_date" in result.stdout  # the table of what it read
    entry = tomllib.loads(reg.read_text(encoding="utf-8"))["portals"]["bp2"]
    assert reg.read_text(encoding="utf-8").startswith("# my portals\n")
    assert entry["hosts"] == ["www.bp.gov.cn"] and entry["start_urls"] == [url]
    assert entry["generations"] == [{"generation": "static", "list_items": "ul.news-list > li"}]

    out = tmp_path / "bp2.jsonl"
    crawl = scrapy("crawl", "bp2", "-s", f"PORTAL_REGISTRY={reg}", "-s", f"PORTAL_MIRROR={origin}",
                   "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0", "-O", str(out))
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    urls = {json.loads(line)["url"] for line in out.read_text(encoding="utf-8").splitlines()}
    assert urls == set(site.meeting_urls("beipiao"))

    again = scrapy("portal", "add", url, "--name", "bp2", "--registry", str(reg), "-s", f"PORTAL_MIRROR={origin}",
                   "-s", f"PORTAL_REGISTRY={reg}")
    assert again.returncode == 2 and "exists already" in again.stdout


def test_portal_add_refuses_a_page_of_no_known_generation(replica, tmp_path):
    origin, site = replica
    reg = tmp_path / "portals.toml"
    article = site.meeting_urls("laishan")[0]
    result = scrapy("portal", "add", article, "--registry", str(reg), "-s", f"PORTAL_MIRROR={origin}",
                    "-s", f"PORTAL_REGISTRY=")
    assert result.returncode == 1
    assert "not added" in result.stdout and "matched no generation; looked for" in result.stdout
    assert "<datastore>" in result.stdout
    assert not reg.exists()


def test_portal_check_passes_and_fails_after_a_redesign(replica, tmp_path):
    origin, _ = replica
    ok = scrapy("portal", "check", "laishan", "-s", f"PORTAL_MIRROR={origin}")
    assert ok.returncode == 0, ok.stdout + ok.stderr[-2000:]
    assert "portal check laishan: ok" in ok.stdout and "generation: jcms" in ok.stdout
    with running_replica(articles=ARTICLES, seed=SEED, faults={"laishan": "layout_changed"}) as broken:
        bad = scrapy("portal", "check", "laishan", "-s", f"PORTAL_MIRROR={broken}")
    assert bad.returncode == 1
    assert "portal check laishan: FAIL" in bad.stdout and "no entries" in bad.stdout


def test_crawlall_over_registry_portals_of_every_generation_stores_each_exactly(tmp_path):
    """The replica's extra portals cycle through every portal and generation it serves; their
    registry entries (hosts and a listing URL, nothing else) are crawled by one crawlall."""
    from crawler.replica.extra import registry_toml
    from crawler.replica.site import CURRENT_CLASSES
    from crawler.store import Store

    count = 5 + len(CURRENT_CLASSES)
    site = build_site(articles=8, seed=2, extra_portals=count)
    assert {(x.template_name, x.generation) for x in site.extras.values()} == (
        {(n, "archive") for n in HOSTS} | {(n, "current") for n in CURRENT_CLASSES})
    reg = tmp_path / "extra.toml"
    reg.write_text(registry_toml(site.extras), encoding="utf-8")
    db = f"sqlite:///{tmp_path}/m.db"
    with running_replica(articles=8, seed=2, extra_portals=count) as origin:
        result = scrapy("crawlall", "--only", ",".join(site.extras), "-s", f"PORTAL_REGISTRY={reg}",
                        "-s", f"PORTAL_MIRROR={origin}", "-s", f"MEETINGS_DB={db}", "-s", "DOWNLOAD_DELAY=0",
                        "-s", "AUTOTHROTTLE_ENABLED=0", "-s", f"CRAWLALL_LOCK_FILE={tmp_path}/lock",
                        "-s", f"CRAWLALL_LOG_FILE={tmp_path}/run.log", "--no-progress")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    store = Store(db)
    try:
        stored: dict[str, dict[str, dict]] = {}
        for item in store.iter_items():
            stored.setdefault(item["portal"], {})[item["url"]] = item
    finally:
        store.close()
    for name, extra in site.extras.items():
        expected = {e["url"]: e for e in extra.expected_items()}
        got = stored.get(name, {})
        assert set(got) == set(expected), (name, extra.template_name, extra.generation)
        assert {u: p for u, i in got.items() if (p := mismatches(i, expected[u]))} == {}, name


@pytest.mark.parametrize("articles", [1, 2, 3])
def test_a_static_column_of_few_meetings_is_recognised_and_its_articles_are_not(articles):
    """A registry entry names no list selector: the static generation finds the list. A column
    that has published one to three meetings is a listing; an article page, which holds a dated
    link or two as well (上一篇/下一篇), is not."""
    from scrapy.http import HtmlResponse

    from crawler.cms.static import StaticList

    site = build_site(articles=articles, seed=SEED, extra_portals=12)
    static = [n for n, p in site.extras.items() if p.generation == "archive"
              and p.template_name in ("yingkou", "beipiao")]
    assert len(static) == 4
    for name in static:
        for url, is_listing in [(site.start_urls(name)[0], True), *((u, False) for u in site.meeting_urls(name))]:
            parts = urlsplit(url)
            _, served = site.handle(parts.netloc, "GET", parts.path, parts.query, b"", {})
            page = HtmlResponse(url, body=served.body)
            assert StaticList().recognise(page) is is_listing, (name, url)
            if is_listing:
                entries = list(StaticList().entries(page, StaticList().items_css(page)))
                assert {page.urljoin(e.url) for e in entries} >= set(site.meeting_urls(name)), name
