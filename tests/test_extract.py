"""Hard cases for the pure extraction helpers (crawler/extract)."""

from datetime import date

import pytest

from crawler.extract import dates, documents, meeting, numerals, people, text


@pytest.mark.parametrize("printed,iso", [
    ("2017年11月23日", "2017-11-23"),
    ("2022- 08- 03 16: 42", "2022-08-03T16:42+08:00"),
    ("发布日期: 2022-\n08-\n03 16:\n42", "2022-08-03T16:42+08:00"),
    ("更新日期:2021-10-12", "2021-10-12"),
    ("2017-08-30 14:50:08", "2017-08-30T14:50:08+08:00"),
    ("二〇一七年十一月二十三日", "2017-11-23"),
    ("2021年8月2日下午", "2021-08-02"),  # dateparser says the 22nd
    ("2021/3/5", "2021-03-05"),
    ("2021.03.05 09:07", "2021-03-05T09:07+08:00"),
    ("2021-02-30", None),
    ("", None),
    ("暂无", None),
])
def test_printed_dates_to_iso(printed, iso):
    assert dates.to_iso(printed) == iso


@pytest.mark.parametrize("body,published,held", [
    ("本报讯 记者陈涣源报道 昨天下午,市长余功斌主持召开", date(2017, 11, 23), "2017-11-22"),
    ("昨天下午,市长", date(2018, 1, 1), "2017-12-31"),
    ("前天上午,市长", date(2018, 3, 1), "2018-02-27"),
    ("8月2日下午,区委副书记、区长蒋海华主持召开", date(2022, 8, 3), "2022-08-02"),
    ("12月30日上午,区长主持召开", date(2023, 1, 4), "2022-12-30"),  # no year, before publication
    ("2021年4月29日,市长付宗义主持召开", date(2021, 10, 12), "2021-04-29"),
    ("十一月二十二日下午,市长主持召开", date(2017, 11, 23), "2017-11-22"),
    ("审议《营口市2017年12月1日起施行办法》。11月20日召开", date(2017, 11, 23), "2017-11-20"),
    ("会议审议了有关事项。", date(2017, 11, 23), None),
    ("8月2日下午,区长主持召开", None, None),
])
def test_meeting_date_resolved_against_publication(body, published, held):
    assert dates.meeting_date(body, published) == held


@pytest.mark.parametrize("printed,number", [
    ("第73次常务会议", 73), ("第八次常务会议", 8), ("第九十三次常务会议", 93), ("第十次全体会议", 10),
    ("十六届第二次全体会议", 2), ("第一次廉政工作会议", 1), ("全体(扩大)会议", None),
    ("济宁市召开第二次全国污染源普查工作会议", None), ("第１２次常务会议", 12),
])
def test_meeting_numbers(printed, number):
    assert numerals.meeting_number(printed) == number


@pytest.mark.parametrize("printed,term", [
    ("第十七届区政府", 17), ("北票市九届政府第55次", 9), ("十六届第二次全体会议", 16), ("党的十九大", None),
])
def test_terms(printed, term):
    assert numerals.term(printed) == term


def test_chinese_numerals():
    assert [numerals.to_int(s) for s in ("二〇三五", "两", "一百零八", "73", "abc", "")] == [2035, 2, 108, 73, None, None]


@pytest.mark.parametrize("texts,name", [
    (("本报讯 昨天下午,市长余功斌主持召开市政府第73次常务会议",), "余功斌"),
    (("8月2日下午,区委副书记、区长蒋海华主持召开区政府常务会议。",), "蒋海华"),
    (("市委书记王艺华出席会议并讲话,市委副书记、市长傅明先主持,市委副书记石光亮出席。",), "傅明先"),
    (("会议由常务副市长欧阳明辉主持。",), "欧阳明辉"),
    (("会议研究了有关事项。", "余功斌主持召开市政府第75次常务会议"), "余功斌"),
    (("会议听取了汇报。",), None),
])
def test_chair(texts, name):
    assert people.chair(*texts) == name


def test_attendees_names_only_in_order_each_once():
    body = ("市领导余功斌、王笑柳参加会议,各县区园区和相关部门负责人,市委政法委常务副书记胡兵、市委党校教授赵丹列席会议。\n"
            "孙本胜、刘显君和宋毅参加会议。\n列席会议的有:宣传部孙海杰、然资源局站前分局徐黎明、城乡建设服务中王勇、宣传部孙海杰。")
    assert people.attendees(body) == ["余功斌", "王笑柳", "胡兵", "赵丹", "孙本胜", "刘显君", "宋毅", "孙海杰", "徐黎明", "王勇"]


def test_task_owners_are_not_attendees():
    assert people.attendees("由杨春柏同志牵头,市发改局负责。由孙平、王金旭同志牵头。会议还研究了其他事项。") == []


def test_documents_in_order_once_with_nested_brackets():
    body = "审议《关于印发<若干措施>的通知》、《甲方案》和《关于表彰优秀企业》的报告。按照《甲方案》执行《乙(2017—2025年)》"
    assert documents.documents(body) == ["关于印发<若干措施>的通知", "甲方案", "关于表彰优秀企业", "乙(2017—2025年)"]


@pytest.mark.parametrize("title,reason", [
    ("【常务会议】莱山区政府第八次常务会议", None),
    ("市政府第74次常务会议审议通过事项解读", None),
    ("市政府召开全体(扩大)会议 部署冲刺四季度确保完成全年目标任务", None),
    ("全市大气污染防治攻坚行动调度会召开", None),
    ("关于公民列席区政府常务会议的公告", "notice"),
    ("营口市人民政府办公室关于召开全市冬季安全生产工作电视电话会议的通知", "notice"),
    ("【议题解读】《民生改善创新2022年行动方案》起草说明", "topic_interpretation"),
    ("《北票市2021—2022年度冬季清洁取暖实施方案》政策解读", "policy_interpretation"),
    ("市政府第73次常务会议审议通过《营口市再生资源回收管理办法》解读", "policy_interpretation"),
    ("2021年区政府常务会议议题汇总", "topic_list"),
    ("莱山区人民政府2022年度重大行政决策事项目录", "catalogue"),
    ("莱山区人民政府工作规则", "rules"),
    ("市人大常委会召开主任会议", "not_government"),
    ("泗水县：全域旅游示范区创建工作观摩会召开", "local_news"),
    ("济宁高新区举办高校毕业生专场招聘会", "not_meeting"),
    ("济宁市中小学迎来秋季开学", "not_meeting"),
])
def test_title_classification(title, reason):
    assert meeting.classify_title(title) == reason


def test_meeting_kind_and_doc_type():
    assert meeting.meeting_kind("市政府召开全体(扩大)会议") == "全体会议"
    assert meeting.meeting_kind("【廉政工作会议】莱山区政府第一次廉政工作会议") == "廉政工作会议"
    assert meeting.meeting_kind("全市调度会召开") == "调度会议"
    assert meeting.meeting_kind("无", "会议正文没有") is None
    assert meeting.doc_type("北票市九届政府第55次常务会议解读") == "interpretation"
    assert meeting.doc_type("区长主持召开常务会议") == "report"


def test_labelled_header_fields():
    fields = text.labelled_fields(["\xa0 来源:营口日报 作者:陈涣源 发布时间:2017年11月23日",
                                   "更新日期:2021-10-12 信息来源:北票市政府\xa0\xa0 游览:", "作者：", "索引号:113706130042791846/2022-03924"])
    assert fields == {"source": "营口日报", "author": "陈涣源", "published_at": "2017年11月23日",
                      "index_number": "113706130042791846/2022-03924"}


def test_breadcrumbs():
    assert text.breadcrumb("您现在的位置:首页 > 重点领域信息公开\xa0>\xa0政府会议 > 正文") == ["首页", "重点领域信息公开", "政府会议", "正文"]
    assert text.breadcrumb("首页\n>政府信息公开>政务专题") == ["首页", "政府信息公开", "政务专题"]
    assert text.category_from(["首页", "政府会议", "正文"]) == "政府会议"


def test_traditional_and_pinyin():
    served = "濟(jì)寧市新舊動能轉(zhuǎn)換(2017—2021)(討論稿)( https://minsheng.iqilu.com/)"
    assert text.is_traditional(served)
    assert text.to_simplified(served) == "济宁市新旧动能转换(2017—2021)(讨论稿)( https://minsheng.iqilu.com/)"
    assert not text.is_traditional("济宁市新旧动能转换暨经济开发区创新发展工作会议召开,于是乾坤")
