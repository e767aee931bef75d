"""Listing callbacks produce exactly the right follow-up requests from the snapshot pages."""

import json
import re

import pytest
import scrapy

from crawler.runtime.offline import OfflineParser

from .snapshots import PORTALS, page_response


def run(parser, callback, response):
    out = list(callback(response) or ())
    articles = [r for r in out if isinstance(r, scrapy.Request) and r.meta.get("role") == "article"]
    listings = [r for r in out if isinstance(r, scrapy.Request) and r.meta.get("role") == "listing"]
    assert len(articles) + len(listings) == len(out)
    return articles, listings


def titles(requests):
    return [r.meta["listing_title"] for r in requests]


def test_yingkou_static_pager_and_filter():
    parser = OfflineParser("yingkou")
    spider = parser.spider
    page0 = page_response(parser, "yingkou", "xxgk/zfhy/index.html", "http://www.yingkou.gov.cn/xxgk/zfhy/")
    articles, listings = run(parser, spider.parse, page0)
    assert [(r.method, r.url) for r in listings] == [("GET", "http://www.yingkou.gov.cn/xxgk/zfhy/index_1.html")]
    # Relative `./YYYYMM/…` links resolve against the column.
    assert "http://www.yingkou.gov.cn/xxgk/zfhy/201711/t20171123_1210515.html" in [r.url for r in articles]
    assert all(r.callback == spider.parse_meeting for r in articles)
    assert spider.crawler.stats.get_value("listing/entries") == 15
    skipped = {"营口市人民政府办公室关于召开全市冬季安全生产工作电视电话会议的通知",
               "营口市人民政府关于宣布废止、修改部分市政府规范性文件的决定",
               "市政府第73次常务会议审议通过《营口市再生资源回收管理办法》解读",
               "营口市人民政府关于调整营口市防汛抗旱指挥部组成人员的通知"}
    assert len(articles) == 15 - len(skipped)
    assert not skipped & set(titles(articles))
    # The full title comes from @title, not the cut anchor text.
    assert "余功斌主持召开市政府第75次常务会议 研究部署冬季供暖保障和岁末年初安全生产工作" in titles(articles)

    page1 = page_response(parser, "yingkou", "xxgk/zfhy/index_1.html", "http://www.yingkou.gov.cn/xxgk/zfhy/index_1.html")
    _, listings = run(parser, spider.parse, page1)
    assert [r.url for r in listings] == ["http://www.yingkou.gov.cn/xxgk/zfhy/index_2.html"]

    body = (PORTALS / "yingkou/pages/xxgk/zfhy/index_1.html").read_bytes()
    last = body.replace(b'createPageHTML(7, 1, "index", "html")', b'createPageHTML(7, 6, "index", "html")')
    assert last != body
    _, listings = run(parser, spider.parse, page_response(parser, "yingkou", "", "http://www.yingkou.gov.cn/xxgk/zfhy/index_6.html", body=last))
    assert listings == []


def test_beipiao_follows_next_link_until_the_last_page():
    parser = OfflineParser("beipiao")
    spider = parser.spider
    page1 = page_response(parser, "beipiao", "html/BPSZF/zcjd/index.html", "http://www.bp.gov.cn/html/BPSZF/zcjd/index.html")
    articles, listings = run(parser, spider.parse, page1)
    assert [r.url for r in listings] == ["http://www.bp.gov.cn/html/BPSZF/zcjd/index_2.html"]
    assert len(articles) == 13
    assert "http://www.bp.gov.cn/html/BPSZF/202110/0163399910507492.html" in [r.url for r in articles]
    assert not any("政策解读" in t or t.endswith("通知") for t in titles(articles))

    page2 = page_response(parser, "beipiao", "html/BPSZF/zcjd/index_2.html", "http://www.bp.gov.cn/html/BPSZF/zcjd/index_2.html")
    _, listings = run(parser, spider.parse, page2)
    assert [r.url for r in listings] == ["http://www.bp.gov.cn/html/BPSZF/zcjd/index_3.html"]

    body = (PORTALS / "beipiao/pages/html/BPSZF/zcjd/index_2.html").read_bytes().decode()
    last = re.sub(r'<a href="[^"]*" class="page-next">下一页</a>', '<span class="page-next disabled">下一页</span>', body)
    assert last != body
    _, listings = run(parser, spider.parse, page_response(parser, "beipiao", "", "http://www.bp.gov.cn/html/BPSZF/zcjd/index_5.html", body=last.encode()))
    assert listings == []


def test_laishan_inline_datastore_then_dataproxy_groups():
    parser = OfflineParser("laishan")
    spider = parser.spider
    column_url = "http://www.ytlaishan.gov.cn/col/col53951/index.html"
    articles1, listings = run(parser, spider.parse, page_response(parser, "laishan", "col/col53951/index.html", column_url))
    sample = (PORTALS / "laishan/pages/module/web/jpage/dataproxy.jsp.request-1.txt").read_bytes().decode()
    head, _, form = sample.partition("\r\n\r\n")
    assert len(listings) == 1
    group2 = listings[0]
    assert group2.method == "POST"
    assert group2.url == "http://www.ytlaishan.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=46&endrecord=90&perpage=15"
    assert group2.body.decode() == form.strip()
    assert group2.headers["Content-Type"] == b"application/x-www-form-urlencoded; charset=UTF-8"
    assert group2.headers["X-Requested-With"] == b"XMLHttpRequest"
    assert group2.headers["Referer"] == b"http://www.ytlaishan.gov.cn/col/col53951/index.html?uid=244316&pageNum=4"

    xml = (PORTALS / "laishan/pages/module/web/jpage/dataproxy.jsp.response-1.xml").read_bytes()
    response = parser.response(group2.url, xml, {"Content-Type": "text/xml;charset=UTF-8"}, request=group2)
    articles2, listings = run(parser, spider.parse_listing, response)
    assert [r.url for r in listings] == [
        "http://www.ytlaishan.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=91&endrecord=135&perpage=15"]
    assert listings[0].body == group2.body
    # README: of the 90 records in the snapshot, 74 are meeting reports and 16 must be dropped.
    followed = titles(articles1) + titles(articles2)
    assert len(followed) == 74
    assert spider.crawler.stats.get_value("listing/entries") == 90
    assert all(re.search(r"常务会议$|全体会议$|廉政工作会议$", t) for t in followed)
    assert "http://www.ytlaishan.gov.cn/art/2022/8/3/art_53951_3077069.html" in [r.url for r in articles1]

    # The last group (136–137) has no successor.
    state = {**listings[0].meta["hanweb"]}
    last = spider.generation("jcms").group_request(spider, response, state, start=136)
    assert last.url.endswith("startrecord=136&endrecord=137&perpage=15")
    _, listings = run(parser, spider.parse_listing, parser.response(last.url, xml, {"Content-Type": "text/xml;charset=UTF-8"}, request=last))
    assert listings == []


def test_zhanqian_epoint_api_pages_from_the_shell_config():
    parser = OfflineParser("zhanqian")
    spider = parser.spider
    shell_url = "http://www.ykzq.gov.cn/govxxgk/zqqrmzf/openlist.html?categorynum=001003005"
    out = list(spider.parse(page_response(parser, "zhanqian", "govxxgk/zqqrmzf/openlist.html", shell_url)))
    assert len(out) == 1
    page0 = out[0]
    api = "http://www.ykzq.gov.cn/EWB-FRONT/rest/lightfrontaction/getgovinfolist"
    sample = (PORTALS / "zhanqian/pages/EWB-FRONT/rest/lightfrontaction/getgovinfolist.request.json").read_bytes()
    assert (page0.method, page0.url, page0.body) == ("POST", api, sample.strip())
    assert page0.headers["Content-Type"] == b"application/json;charset=UTF-8"
    assert page0.meta["role"] == "listing"

    def api_response(request, n):
        body = (PORTALS / f"zhanqian/pages/EWB-FRONT/rest/lightfrontaction/getgovinfolist.response-page{n}.json").read_bytes()
        return parser.response(request.url, body, {"Content-Type": "application/json;charset=UTF-8"}, request=request)

    articles0, listings = run(parser, spider.parse_listing, api_response(page0, 0))
    assert len(listings) == 1 and json.loads(listings[0].body)["params"]["pageIndex"] == 1
    articles1, listings = run(parser, spider.parse_listing, api_response(listings[0], 1))
    assert json.loads(listings[0].body)["params"]["pageIndex"] == 2
    followed = titles(articles0) + titles(articles1)
    assert len(followed) == 25  # 30 entries: four notices and one policy 解读 dropped
    assert "区长黄宇光主持召开第十七届区政府第26次常务会议" in followed
    assert "http://www.ykzq.gov.cn/govxxgk/zqqrmzf/2023-11-27/5f0c3b7e-2d91-4a8e-b6f4-93c1e7a20d58.html" in [r.url for r in articles0]
    assert not any("通知" in t or "政策解读" in t for t in followed)

    # total 52 → pageIndex 0..3; page 3 is the last.
    page3 = spider.generation("epoint").api_request(spider, shell_url, listings[0].meta["epoint"]["config"], 3)
    _, listings = run(parser, spider.parse_listing, api_response(page3, 1))
    assert listings == []


def test_jining_pager_and_channel_filter():
    parser = OfflineParser("jining")
    spider = parser.spider
    base = "http://jining.iqilu.com/jnyaowen/"
    articles1, listings = run(parser, spider.parse, page_response(parser, "jining", "jnyaowen/index.shtml", base))
    assert [r.url for r in listings] == [base + "list_2417_2.shtml"]
    articles2, listings = run(parser, spider.parse, page_response(parser, "jining", "jnyaowen/list_2417_2.shtml", base + "list_2417_2.shtml"))
    assert [r.url for r in listings] == [base + "list_2417_3.shtml"]
    articles3, listings = run(parser, spider.parse, page_response(parser, "jining", "jnyaowen/list_2417_3.shtml", base + "list_2417_3.shtml"))
    assert [r.url for r in listings] == [base + "list_2417_4.shtml"]
    assert spider.crawler.stats.get_value("listing/entries") == 60  # sidebars are not entries
    followed = titles(articles1) + titles(articles2) + titles(articles3)
    assert "济宁市新旧动能转换暨经济开发区创新发展工作会议召开" in followed
    for title in ("济宁市中小学迎来秋季开学", "济宁高新区举办高校毕业生专场招聘会", "第三季度“济宁好人榜”发布",
                  "泗水县：全域旅游示范区创建工作观摩会召开", "邹城市召开重点工作推进会议", "市政协召开主席会议"):
        assert title not in followed
    assert all("会" in t for t in followed)

    body = (PORTALS / "jining/pages/jnyaowen/list_2417_3.shtml").read_text()
    last = re.sub(r'<a href="[^"]*" class="a1">下一页</a>', "", body)
    assert last != body
    _, listings = run(parser, spider.parse, page_response(parser, "jining", "", base + "list_2417_586.shtml", body=last.encode()))
    assert listings == []


# What a third-party mirror does to a page: Traditional script, and a pinyin syllable in
# brackets after some characters (`區(qū)`, `會(huì)`).
_MIRROR_PINYIN = {"區": "qū", "會": "huì", "務": "wù", "濟": "jì", "關": "guān", "發": "fā", "縣": "xiàn"}


def _as_mirror(html: str) -> str:
    import opencc

    traditional = opencc.OpenCC("s2t").convert(html)
    return re.sub("[" + "".join(_MIRROR_PINYIN) + "]", lambda m: f"{m.group(0)}({_MIRROR_PINYIN[m.group(0)]})",
                  traditional)


@pytest.mark.parametrize("portal,relpath,url", [
    ("jining", "jnyaowen/index.shtml", "http://jining.mirror.example/jnyaowen/"),
    ("yingkou", "xxgk/zfhy/index.html", "http://www.yingkou.gov.cn/xxgk/zfhy/"),
])
def test_traditional_mirror_of_a_listing_follows_every_meeting(portal, relpath, url):
    """Listing titles are judged after the article path's normalisation (pinyin removed,
    Traditional → Simplified), so a mirror's listing follows the meetings the portal's does."""
    html = (PORTALS / portal / "pages" / relpath).read_bytes().decode(
        "gbk" if portal == "yingkou" else "utf-8", errors="replace")
    plain = OfflineParser(portal)
    want, _ = run(plain, plain.spider.parse, page_response(plain, portal, relpath, url))
    mirror = OfflineParser(portal)
    got, _ = run(mirror, mirror.spider.parse, page_response(
        mirror, portal, "", url, body=_as_mirror(html).encode("utf-8"), content_type="text/html; charset=utf-8"))
    assert want and all(re.search(r"\((?:huì|wù)\)", t) for t in titles(got))  # served with residue
    assert [r.url.split("/", 3)[3] for r in got] == [r.url.split("/", 3)[3] for r in want]
    assert mirror.spider.crawler.stats.get_value("listing/meetings") == len(want)
