"""Parts of Chinese personal names and app nicknames. Pure data, no Django."""

from __future__ import annotations

# The hundred or so most common surnames, most common first (picked with a skew).
SURNAMES: tuple[str, ...] = tuple(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾"
    "毛郝龚邵万钱严覃武戴莫孔向汤"
)

# Characters common in given names; a given name is one or two of them.
GIVEN_CHARS: tuple[str, ...] = tuple(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华建国文辉鹏宇浩然欣怡晨阳思雨佳琪子轩"
    "梓涵一诺嘉豪俊杰志强秀兰玉兰春梅海燕红梅立新永刚晓东婷婷亮斌"
)

NICK_FRONTS: tuple[str, ...] = (
    "快乐的", "爱笑的", "深夜", "安静的", "元气", "路过的", "努力的", "佛系", "会飞的", "不吃香菜的",
    "早睡早起的", "温柔的", "迷糊的", "认真的", "周末", "干饭", "吃不胖的", "喜欢下雨的",
)
NICK_BACKS: tuple[str, ...] = (
    "小猫", "柠檬", "吃货", "打工人", "兔子", "西瓜", "胖虎", "橘子", "奶茶", "咸鱼", "小熊",
    "程序员", "设计师", "小仙女", "大白", "土豆", "饺子", "汤圆", "考拉", "向日葵",
)
# A surname then one of these: "王先生", "李同学".
NICK_TITLES: tuple[str, ...] = ("先生", "女士", "小姐", "同学", "老师", "师傅", "阿姨", "大哥")
NICK_LATIN: tuple[str, ...] = (
    "Momo", "Lucky", "Coco", "Kiki", "Leo", "Amy", "Jack", "Yoyo", "Sunny", "Vivian", "Tony",
)
