"""Likely repeats (SPEC §7): same phone, same name, similar text in the same region; and fast."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lib import repeats
from lib.repeats import BigramIndex, find_repeats, normal_phone


def frame(rows: list[dict]) -> pd.DataFrame:
    base = {
        "phone": "",
        "petitioner": "",
        "region": "广安区",
        "title": "",
        "content": "",
        "status": "待交办",
        "unit": "",
        "repeat_of": "",
        "received_at": pd.Timestamp("2026-03-01"),
    }
    out = pd.DataFrame([{**base, **r} for r in rows])
    out.insert(0, "case_id", [f"C{i}" for i in range(len(out))])
    return out


CASES = frame(
    [
        {
            "phone": "13800138000",
            "petitioner": "张三",
            "title": "小区电梯长期停运",
            "content": "滨江小区3号楼电梯停运两个月，老人上下楼困难。",
        },
        {
            "phone": "0826-2338612",
            "petitioner": "李四",
            "title": "路灯不亮",
            "content": "解放路路灯坏了。",
        },
        {
            "phone": "13900000000",
            "petitioner": "王五",
            "region": "岳池县",
            "title": "滨江小区3号楼电梯长期停运",
            "content": "滨江小区3号楼电梯停运两个月，老人上下楼困难。",
        },
        {
            "phone": "13700000000",
            "petitioner": "张三",
            "region": "岳池县",
            "title": "农村公路破损",
            "content": "村道坑洼。",
        },
        {
            "phone": "13600000000",
            "petitioner": "赵*",
            "title": "咨询社保",
            "content": "社保怎么交。",
        },
    ]
)


def test_phone_numbers_are_compared_by_their_digits():
    assert normal_phone("+86 138-0013-8000") == "13800138000"
    assert normal_phone("008613800138000") == "13800138000"
    assert normal_phone("(0826)2338612") == "08262338612"
    found = find_repeats(CASES, phone="+86 138 0013 8000")
    assert list(found["case_id"]) == ["C0"]
    assert found["reasons"].iloc[0] == ("phone",)
    assert found["score"].iloc[0] == 100
    assert find_repeats(CASES, phone="123").empty  # too short to mean anything


def test_the_same_name_matches_in_any_region_but_masked_names_never():
    found = find_repeats(CASES, petitioner=" 张三 ")
    assert set(found["case_id"]) == {"C0", "C3"}
    assert all(r == ("name",) for r in found["reasons"])
    assert find_repeats(CASES, petitioner="赵*").empty


def test_similar_text_counts_only_in_the_same_region():
    query = {
        "title": "再次反映滨江小区3号楼电梯停运",
        "content": "滨江小区3号楼电梯至今停运，老人上下楼很困难。",
    }
    here = find_repeats(CASES, region="广安区", **query)
    assert list(here["case_id"]) == ["C0"]
    assert here["reasons"].iloc[0] == ("text",)
    assert here["text_score"].iloc[0] >= repeats.TEXT_MIN
    there = find_repeats(CASES, region="岳池县", **query)
    assert list(there["case_id"]) == ["C2"]
    assert find_repeats(CASES, **query).empty  # no region, no text comparison


def test_unrelated_text_is_not_suggested():
    assert find_repeats(
        CASES, region="广安区", title="建议增设公交线路", content="希望开通到高铁站的公交。"
    ).empty


def test_reasons_combine_and_order_by_score():
    found = find_repeats(
        CASES,
        phone="13800138000",
        petitioner="张三",
        region="广安区",
        title="小区电梯长期停运",
        content="滨江小区3号楼电梯停运两个月，老人上下楼困难。",
    )
    assert found["case_id"].iloc[0] == "C0"
    assert found["reasons"].iloc[0] == ("phone", "name", "text")
    assert list(found["score"]) == sorted(found["score"], reverse=True)
    assert "C3" in set(found["case_id"])  # same name elsewhere, lower


def test_repeats_of_one_matter_are_shown_once_as_their_original():
    chain = frame(
        [
            {
                "phone": "13800138000",
                "title": "北辰路施工未设警示标志",
                "received_at": pd.Timestamp("2025-03-25"),
            },
            {
                "phone": "13800138000",
                "title": "再次反映：北辰路施工未设警示标志",
                "repeat_of": "C0",
            },
            {
                "phone": "13800138000",
                "title": "三次反映：北辰路施工未设警示标志",
                "repeat_of": "C1",
            },
            {"phone": "13911112222", "title": "解放路施工噪音扰民"},
        ]
    )
    found = find_repeats(chain, phone="13800138000")
    assert list(found["case_id"]) == ["C0"]
    assert found["matched"].iloc[0] == 3
    assert found["reasons"].iloc[0] == ("phone",)
    assert repeats.finder_for(chain).original("C2") == "C0"


def test_exclude_and_empty_inputs():
    assert find_repeats(CASES).empty
    assert find_repeats(CASES.iloc[0:0], phone="13800138000").empty
    assert find_repeats(CASES, phone="13800138000", exclude=["C0"]).empty


def test_bigram_dice_is_exact_on_small_examples():
    index = BigramIndex.build(["电梯停运", "路灯不亮", "", "电梯停运电梯停运"])
    scores = index.dice("电梯停运")
    assert scores[0] == pytest.approx(100)
    assert scores[1] == 0 and scores[2] == 0
    assert scores[3] == pytest.approx(200 * 3 / (3 + 4))  # 电梯 梯停 停运 运电: 4 distinct
    # punctuation and spaces do not count; ASCII case does not matter
    assert BigramIndex.build(["电梯，停运！ABC"]).dice("电梯停运abc")[0] == pytest.approx(100)


def test_a_hundred_thousand_cases_are_searched():
    rng = np.random.default_rng(1)
    chars = np.array(
        list(
            "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可也你能而子那得着下自之年过发后作里用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本前开但因只从想实日军者意无力它与长把机十民第公此已工使情明性知全三又关点正业外将两高间由问很最重并物手应战向头文体政美相见被利什二等产或新己制身果加西斯月话合回特代内信表化老给世位次度门任常先海通教儿原东声提立及比员解水名真论处走义各入几口认条平系气题活尔更别打女变四神总何电数安少报才结反受目太量再感建务做接必场件计管期市直德资命山金指克许统区保至队形社便空决治展马科司五基眼书非则听白却界达光放强即像难且权思王象完设式色路记南品住告类求据程北边死张该交规万取拉格望觉术领共确传师观清今切院让识候带导争运笑飞风步改收根干造言联持组每济车亲极林服快办议往元英士证近失转夫令准布始怎呢存未远叫台单影具罗字爱击流备兵连调深商算质团集百需价花党华城石级整府离况亚请技际约示复病息究线似官火断精满支视消越器容照须九增研写称企八功吗包片史委乎查轻易早曾除农找装广显吧阿李标谈吃图念六引历首医局突专费号尽另周较注语仅考落青随选列武红响虽推势参希古众构房半节土投某案黑维革划敌致陈律足态护七兴派孩验责营星够章音跟志底站严巴例防族供效续施留讲型料终答紧黄绝奇察母京段依批群项故按河米围江织害斗双境客纪采举杀攻父苏密低朝友诉止细愿千值仍男钱破网热助倒育属坐帝限船脸职速刻乐否刚威毛状率甚独球般普怕弹校苦创假久错承印晚兰试股拿脑预谁益阳若哪微尼继送急血惊伤素药适波夜省初喜卫源食险待述陆习置居劳财环排福纳欢雷警获模充负云停木游龙树疑层冷洲冲射略范竟句室异激汉村哈策演简卡罪判担州静退既衣您宗积余痛检差富灵协角占配征修皮挥胜降阶审沉坚善妈刘读啊超免压银买皇养伊怀执副乱抗犯追帮宣佛岁航优怪香著田铁控税左右份穿艺背阵草脚概恶块顿敢守酒岛托央户烈洋哥索胡款靠评版宝座释景顾弟登货互付伯慢欧换闻危忙核暗姐介坏讨丽良序升监临亮露永呼味野架域沙掉括舰鱼杂误湾吉减编楚肯测败屋跑梦散温困剑渐封救贵枪缺楼县尚毫移娘朋画班智亦耳恩短掌恐遗固席松秘谢鲁遇康虑幸均销钟诗藏赶剧票损忽巨炮旧端探湖录叶春乡附吸予礼港雨呀板庭妇归睛饭额含顺输摇招婚脱补谓督毒油疗旅泽材灭逐莫笔亡鲜词圣择寻厂睡博勒烟授诺伦岸奥唐卖俄炸载洛健堂旁宫喝借君禁阴园谋宋避抓荣姑孙逃牙束跳顶玉镇雪午练迫爷篇肉嘴馆遍凡础洞卷坦牛宁纸诸训私庄祖丝翻暴森塔默握戏隐熟骨访弱蒙歌店鬼软典欲萨伙遭盘爸扩盖弄雄稳忘亿刺拥徒姆杨齐赛趣曲刀床迎冰虚玩析窗醒妻透购替塞努休虎扬途侵刑绿兄迅套贸毕唯谷轮库迹尤竞街促延震弃甲伟麻川申缓潜闪售灯针哲络抵朱埃抱鼓植纯夏忍页杰筑折郑贝尊吴秀混臣雅振染盛怒舞圆搞狂措姓残秋培迷诚宽宇猛摆梅毁伸摩盟末乃悲拍丁赵"
        )
    )
    n = 100_000
    lengths = rng.integers(60, 200, n)
    pool = rng.choice(chars, size=int(lengths.sum()))
    cuts = np.cumsum(lengths)[:-1]
    texts = ["".join(part) for part in np.split(pool, cuts)]
    regions = rng.choice(["广安区", "前锋区", "岳池县", "武胜县", "邻水县", "华蓥市"], n)
    big = pd.DataFrame(
        {
            "case_id": [f"X{i}" for i in range(n)],
            "phone": [f"138{i:08d}" for i in range(n)],
            "petitioner": [f"人{i}" for i in range(n)],
            "region": regions,
            "title": [t[:20] for t in texts],
            "content": texts,
            "received_at": pd.Timestamp("2026-01-01"),
        }
    )
    target = 4242
    query = {
        "phone": "13800000001",
        "petitioner": "人7",
        "region": str(regions[target]),
        "title": texts[target][:18],
        "content": texts[target][:150],
    }
    found = find_repeats(big, **query)  # includes preparing this frame
    again = find_repeats(big, **query)  # reuses it
    assert {f"X{target}", "X1", "X7"} <= set(found["case_id"])
    assert found.set_index("case_id").loc[f"X{target}", "reasons"] == ("text",)
    assert list(again["case_id"]) == list(found["case_id"])
    # its speed is measured by bench/bench_repeats.py (timings are never asserted in tests)
