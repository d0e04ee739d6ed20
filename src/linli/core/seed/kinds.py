"""Kinds of store the seed builds: category, name patterns, opening hours and fees.

Pure data, no Django. A kind ("川菜", "便利店") is finer than a platform category
("美食", "超市"): it decides the name, the menu and the hours, so a 烧烤 stall opens
late and a 便利店 may never close. Weights approximate a real platform's mix.
"""

from __future__ import annotations

from dataclasses import dataclass

Period = tuple[str, str]


@dataclass(frozen=True)
class Category:
    slug: str
    name_zh: str
    name_en: str
    weight: int
    legal_trade: str  # goes into the merchant's legal name: "餐饮管理"


@dataclass(frozen=True)
class Fees:
    min_order_fen: tuple[int, ...]  # choices
    delivery_fee_fen: tuple[int, ...]
    packaging_fee_fen: tuple[int, ...]
    prep_minutes: tuple[int, int]  # inclusive range


@dataclass(frozen=True)
class Hours:
    weight: int
    weekdays: tuple[Period, ...]
    weekends: tuple[Period, ...] | None = None  # None: same as weekdays


@dataclass(frozen=True)
class Kind:
    key: str  # also the key of its menu in menus.MENUS
    category: str
    weight: int  # within its category
    names: tuple[str, ...]  # "{s}" a surname, "{w}" one of `words`
    words: tuple[str, ...]
    hours: tuple[Hours, ...]


CATEGORIES: tuple[Category, ...] = (
    Category("food", "美食", "Food", 45, "餐饮管理"),
    Category("drinks", "饮品", "Drinks", 14, "餐饮管理"),
    Category("supermarket", "超市", "Supermarket", 10, "商贸"),
    Category("fruit", "水果", "Fruit", 8, "果业"),
    Category("pharmacy", "药店", "Pharmacy", 8, "医药连锁"),
    Category("beauty", "美容美发", "Beauty & hair", 6, "美容美发"),
    Category("flowers", "鲜花", "Flowers", 5, "花卉"),
    Category("fitness", "健身", "Fitness", 4, "健身管理"),
)

FEES: dict[str, Fees] = {
    "food": Fees((0, 1500, 2000, 2000, 2500, 3000), (0, 200, 300, 350, 400, 500, 600),
                 (50, 100, 100, 150, 200), (10, 30)),
    "drinks": Fees((0, 1500, 2000), (0, 200, 300, 400), (0, 50, 100), (5, 15)),
    "supermarket": Fees((0, 1000, 2000), (0, 200, 300, 500), (0,), (5, 15)),
    "fruit": Fees((0, 2000, 2500, 3000), (0, 300, 400, 500), (0,), (5, 15)),
    "pharmacy": Fees((0, 0, 1000), (0, 300, 500), (0,), (5, 10)),
    "beauty": Fees((0,), (0,), (0,), (5, 30)),
    "flowers": Fees((0,), (0, 500, 600), (0, 100, 200), (15, 30)),
    "fitness": Fees((0,), (0,), (0,), (5, 30)),
}

ALL_DAY = Hours(1, (("00:00", "24:00"),))
MEAL_HOURS = (
    Hours(5, (("10:00", "22:00"),)),
    Hours(3, (("10:30", "14:00"), ("16:30", "21:30"))),
    Hours(2, (("09:30", "21:00"),)),
    Hours(2, (("11:00", "23:00"),)),
)
LATE_HOURS = (
    Hours(4, (("18:00", "02:00"),)),
    Hours(2, (("17:00", "02:00"),)),
    Hours(1, (("11:00", "14:00"), ("17:00", "02:00"))),
)

KINDS: tuple[Kind, ...] = (
    Kind("jiachang", "food", 14, ("老{s}家常菜", "{s}记小炒", "{s}家私房菜", "{w}家常菜", "{w}小馆"),
         ("外婆", "邻家", "小院", "巷子里", "好滋味", "家味道"), MEAL_HOURS),
    Kind("chuan", "food", 8, ("{w}川菜", "{w}川菜馆", "{s}记川味小馆", "老{s}川菜"),
         ("蜀香", "川味", "巴蜀", "蓉城", "辣妹子", "麻辣"), MEAL_HOURS),
    Kind("xiang", "food", 5, ("{w}湘菜馆", "{s}记湘菜", "老{s}土菜馆", "{w}湘菜"),
         ("湘味", "湘里", "湘江", "辣味", "潇湘"), MEAL_HOURS),
    Kind("mian", "food", 9, ("老{s}面馆", "{s}记牛肉面", "{s}家小面", "{w}拉面", "{w}面馆"),
         ("兰州", "重庆", "陕西", "苏式", "一碗", "大碗"),
         (Hours(3, (("06:30", "21:00"),)), *MEAL_HOURS)),
    Kind("jiaozi", "food", 5, ("{s}记水饺", "老{s}饺子馆", "{w}饺子", "{w}水饺"),
         ("东北", "大娘", "一品", "手工", "鲜包"), MEAL_HOURS),
    Kind("malatang", "food", 7, ("{s}记麻辣烫", "{w}麻辣烫", "{w}冒菜", "{s}家麻辣香锅"),
         ("麻辣", "蜀道", "川妹子", "辣尚", "一品", "香辣"), MEAL_HOURS),
    Kind("shaokao", "food", 6, ("{s}记烧烤", "老{s}烤串", "{w}烧烤", "{w}烤肉", "{w}撸串"),
         ("深夜", "炭火", "东北", "新疆", "大排档", "胖哥"), LATE_HOURS),
    Kind("hanbao", "food", 7, ("{w}汉堡", "{w}炸鸡", "{w}炸鸡汉堡", "{w}快餐"),
         ("脆皮", "金黄", "大口", "美式", "酷乐", "咔滋"),
         (ALL_DAY, Hours(3, (("07:00", "23:00"),)), Hours(2, (("10:00", "22:00"),)))),
    Kind("chacanting", "food", 4, ("{w}茶餐厅", "{w}冰室", "{s}记茶餐厅", "{s}记烧腊"),
         ("港岛", "维港", "旺角", "九龙", "铜锣湾", "金牌"), MEAL_HOURS),
    Kind("riliao", "food", 4, ("{w}寿司", "{w}日料", "{w}居酒屋", "{w}拉面屋"),
         ("一期一会", "樱之家", "小林", "松本", "一番", "和风"), MEAL_HOURS),
    Kind("qingshi", "food", 4, ("{w}轻食", "{w}沙拉", "{w}能量碗", "{w}沙拉厨房"),
         ("绿野", "轻盈", "元气", "森活", "好好吃饭", "素然"),
         (Hours(3, (("09:00", "21:00"),)), Hours(2, (("10:00", "20:00"),)))),
    Kind("xiaolongxia", "food", 3, ("{w}小龙虾", "{s}记龙虾馆", "{w}虾馆"),
         ("胖哥", "红盔甲", "麻辣", "十三香", "夜宵", "江湖"), LATE_HOURS),
    Kind("mixian", "food", 4, ("{w}米线", "{s}记米线", "{w}过桥米线", "{w}螺蛳粉"),
         ("云南", "蒙自", "滇味", "柳州", "七彩", "老街"), MEAL_HOURS),
    Kind("gaifan", "food", 6, ("{w}黄焖鸡米饭", "{s}记盖浇饭", "{w}快餐", "{s}家木桶饭"),
         ("正宗", "好味", "一品", "阿香", "老味道", "香满园"), MEAL_HOURS),
    Kind("naicha", "drinks", 9, ("{w}茶社", "{w}奶茶", "{w}茶饮", "{w}鲜果茶", "{w}手作茶"),
         ("小满", "云朵", "一点", "山野", "柠檬", "茶语", "满杯", "初见", "半糖", "鹿鸣"),
         (Hours(3, (("10:00", "22:00"),)), Hours(2, (("09:30", "22:30"),)),
          Hours(1, (("10:00", "24:00"),)))),
    Kind("kafei", "drinks", 5, ("{w}咖啡", "{w}咖啡馆", "{w}咖啡烘焙"),
         ("山野", "街角", "慢时光", "转角", "三点", "豆子", "鹿角"),
         (Hours(3, (("08:00", "20:00"),)), Hours(2, (("07:30", "19:00"),), (("09:00", "20:00"),)))),
    Kind("shuiguo", "fruit", 1, ("{w}水果", "{w}果业", "{w}鲜果铺", "{w}果园"),
         ("鲜禾", "果多多", "百鲜", "果然鲜", "甜心", "四季", "果缤纷", "佳果", "优果", "果之源"),
         (Hours(3, (("08:00", "22:00"),)), Hours(2, (("09:00", "23:00"),)))),
    Kind("bianlidian", "supermarket", 5, ("{w}便利店", "{w}便利", "{w}便利超市"),
         ("邻家", "乐邻", "好邻里", "便民", "优选", "每日", "随心", "快乐"),
         (Hours(3, (("00:00", "24:00"),)), Hours(2, (("07:00", "23:00"),)))),
    Kind("chaoshi", "supermarket", 5, ("{w}超市", "{w}生鲜超市", "{w}生鲜", "{w}菜场"),
         ("惠民", "万家福", "邻家", "金桥", "家乐多", "百佳乐", "鲜生活", "朴鲜"),
         (Hours(3, (("07:00", "22:00"),)), Hours(2, (("06:30", "21:30"),)))),
    Kind("huadian", "flowers", 1, ("{w}花店", "{w}鲜花", "{w}花艺", "{w}花坊", "{w}花艺工作室"),
         ("花语", "花间", "一束", "花漾", "朵朵", "花样年华", "森林", "小雏菊", "花点"),
         (Hours(3, (("09:00", "21:00"),)), Hours(2, (("08:30", "20:30"),)))),
    Kind("yaodian", "pharmacy", 1, ("{w}大药房", "{w}药店", "{w}药房", "{w}健康药房"),
         ("益康", "康宁", "仁心", "百姓", "济民", "康健", "惠民", "德仁", "安康"),
         (Hours(4, (("08:00", "22:00"),)), Hours(2, (("08:30", "21:00"),)), ALL_DAY)),
    Kind("meifa", "beauty", 2, ("{w}美发", "{w}造型", "{w}发型设计", "{w}美容美发"),
         ("型格", "尚美", "名匠", "潮人", "发艺", "剪刀手", "丝语", "东方"),
         (Hours(3, (("10:00", "22:00"),)), Hours(2, (("10:00", "21:00"),)))),
    Kind("meijia", "beauty", 1, ("{w}美甲", "{w}美甲美睫"),
         ("指尖", "甲年华", "小美", "蜜桃", "花漾"),
         (Hours(1, (("10:30", "21:30"),)),)),
    Kind("jianshen", "fitness", 3, ("{w}健身", "{w}健身房", "{w}健身工作室"),
         ("动感", "力量", "燃", "轻盈", "型动", "铁馆", "汗水", "超燃"),
         (Hours(3, (("06:30", "22:30"),), (("08:00", "21:00"),)), ALL_DAY)),
    Kind("yujia", "fitness", 2, ("{w}瑜伽", "{w}瑜伽馆", "{w}普拉提"),
         ("梵音", "静心", "一念", "自在", "莲花", "舒心"),
         (Hours(1, (("09:00", "21:30"),)),)),
)
