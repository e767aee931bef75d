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


# --- phrasing classes of other governments' reports (sentences written for these tests) ---

@pytest.mark.parametrize("texts,name", [
    (("5月9日上午,赵光明县长主持召开县政府第8次常务会议。",), "赵光明"),  # name before office
    (("区委常委、副区长钱立新同志在行政中心3号楼五楼会议室主持召开区政府常务会议。",), "钱立新"),  # 同志 + place
    (("4月1日,县长郑大伟在县政府大礼堂主持召开县政府常务会议。",), "郑大伟"),  # 在…礼堂: not 大礼堂
    (("市长孔庆和在市民中心二楼会议室,主持召开市政府第15次常务会议。",), "孔庆和"),  # comma before 主持
    (("市长韦国栋通过视频方式主持召开市政府常务会议。",), "韦国栋"),  # how, between name and verb
    (("本次会议由县政府办主任冯小燕主持。",), "冯小燕"),  # 本次会议由…主持
    (("6月3日,区政府召开全体会议,副市长褚文涛主持并讲话。",), "褚文涛"),  # 主持并讲话
    (("20日,受县长蒋红委托,常务副县长沈力主持召开县政府常务会议。",), "沈力"),  # delegation
    (("在县长柏松的主持下,会议审议了三项议题。",), "柏松"),  # 在…的主持下
    (("县政府召开重点项目调度会。副县长韩梅出席会议。",), None),  # nobody chairs
    (("会议开始。", "书记市长同台", "此次会议由市委书记杨立平主持。"), "杨立平"),  # named later
])
def test_chair_phrasings(texts, name):
    assert people.chair(*texts) == name


@pytest.mark.parametrize("printed,number", [
    ("县政府召开2021年第五次常务会议", 5),  # the year's count
    ("区政府七届58次常务会议", 58),  # 届次 with no 第
    ("十五届区政府第12次常务会议", 12),
    ("第三届县政府第四次全体(扩大)会议", 4),
    ("市政府十二届四十一次常务会议", 41),  # Chinese ordinal inside a 届次 form
    ("重点工作第17次周交办会议", 17),  # a kind outside the old list
    ("稳就业第2次调度会", 2),
    ("会议传达了省委十一届五次全会精神", None),  # another meeting, conveyed
    ("2023年重点项目推进会召开", None),  # a year is no ordinal
    ("县长主持召开2024年6月县政府专题会议", None),  # nor a month label
    ("在市政府第二会议室召开常务会议", None),  # nor a room
    ("审议《关于第三次全国土壤普查工作会议的报告》", None),  # inside a document's title
])
def test_meeting_number_phrasings(printed, number):
    assert numerals.meeting_number(printed) == number


@pytest.mark.parametrize("printed,level,term", [
    ("区政府七届58次常务会议", None, 7),
    ("市三届人民政府第9次常务会议", None, 3),
    ("县政府十二届第3次常务会", None, 12),
    ("传达市委十四届七次全会精神", None, None),  # the party committee's
    ("审议《第二十届人大三次会议政府工作报告》", None, None),  # the congress's, in a title
    ("做好第十届文化艺术节筹备", None, None),  # an exhibition's edition
    ("传达市政府八届五次全体会议和县政府十六届三次全体会议精神", "县", 16),  # a higher government's
])
def test_term_phrasings(printed, level, term):
    assert numerals.term(printed, level) == term


def test_government_level():
    assert numerals.government_level("县政府召开常务会议") == "县"
    assert numerals.government_level("无", "区长孙强主持") == "区"


@pytest.mark.parametrize("text,kind", [
    ("县长办公会召开", "办公会议"),
    ("重点工作第17次周交办会议", "交办会议"),
    ("全县乡村振兴现场推进会召开", "推进会议"),
    ("市长主持召开专题调度会", "调度会议"),
    ("区政府召开常务会 研究城市更新", "常务会议"),
    ("召开全体(扩大)会议", "全体会议"),
    ("在市政府第一会议室召开", None),
    ("区长主持召开区政府会议", None),  # a meeting, but of no named kind
])
def test_meeting_kind_phrasings(text, kind):
    assert meeting.meeting_kind(text) == kind


def test_titles_naming_short_kinds_are_meetings():
    assert meeting.classify_title("县长办公会召开 研究春耕生产") is None
    assert meeting.classify_title("区政府召开常务会 部署防汛工作") is None


@pytest.mark.parametrize("body,names", [
    ("副市长何文斌,市政府秘书长吕东升,市发改委主任施晓红出席会议。", ["何文斌", "吕东升", "施晓红"]),  # offices, commas
    ("会议要求抓好落实,方雷、葛亮、韦娜参加。", ["方雷", "葛亮", "韦娜"]),  # glued to the verb
    ("龚平、严华、俞斌等市领导参加会议。", ["龚平", "严华", "俞斌"]),  # 等 + group
    ("副县长顾涛和县政府秘书长陶红出席会议。", ["顾涛", "陶红"]),  # 和 between two people
    ("副区长谭力及区财政局、区审计局等单位负责人参加会议。", ["谭力"]),  # 及 joins units
    ("毛军、邱燕同志参加会议。", ["毛军", "邱燕"]),  # 同志 after the last name
    ("区人大常委会副主任汤斌、区政协副主席殷红应邀列席。", ["汤斌", "殷红"]),  # 应邀列席
    ("县政府办有关同志列席会议。", []),  # 列席 without names
    ("各街道以及财政、民政、人社等部门负责同志参加会议。", []),  # units only
    ("县委办,政府办,环保等单位负责人参加。", []),  # units only, by the list's 等 tail
    ("县领导黎行舟、甘霖、钟毅及县发改局等相关单位负责人参加会议。", ["黎行舟", "甘霖", "钟毅"]),  # a unit character inside a name
    ("市委书记熊克出席会议并讲话强调,要抓好落实。", ["熊克"]),
    ("区委常委、副区长范明主持会议,区长乔木出席。", ["乔木"]),
])
def test_attendee_phrasings(body, names):
    assert people.attendees(body) == names


@pytest.mark.parametrize("body,published,held", [
    ("15日,受市长委托,常务副市长主持召开", date(2022, 6, 16), "2022-06-15"),  # the day alone
    ("28日上午,县长主持召开", date(2022, 7, 2), "2022-06-28"),  # …of the month before
    ("本网3月9日消息 3月8日,市长主持召开", date(2023, 3, 9), "2023-03-08"),  # a dateline is not it
])
def test_meeting_date_phrasings(body, published, held):
    assert dates.meeting_date(body, published) == held
