"""Tokenisation, pure Python: normalisation, Han bigrams, pinyin and initials, query terms."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linli.discovery.text import (
    TOKEN,
    QueryTerm,
    index_tokens,
    latin_words_replace,
    normalise,
    pinyin_full,
    pinyin_initials,
    query_terms,
)


@pytest.mark.parametrize(("raw", "clean"), [
    ("ＫＦＣ　肯德基", "kfc 肯德基"),  # full-width letters and space
    ("  MaiDang\tLao  ", "maidang lao"),
    ("（人民广场店）", "(人民广场店)"),
    ("１２３", "123"),
])
def test_normalise_folds_width_and_case(raw, clean):
    assert normalise(raw) == clean


def test_pinyin_and_initials_read_in_context():
    assert pinyin_full("麦当劳") == "maidanglao" and pinyin_initials("麦当劳") == "mdl"
    assert pinyin_full("宫保鸡丁") == "gongbaojiding" and pinyin_initials("宫保鸡丁") == "gbjd"
    assert pinyin_full("重庆") == "chongqing"  # 重 read chong here, not zhong
    assert pinyin_full("绿茶") == "lvcha"  # ü typed as v, like every pinyin keyboard


def test_store_name_tokens():
    tokens = index_tokens("麦当劳(人民广场店)")
    assert {"麦", "当", "劳", "麦当", "当劳", "maidanglao", "mdl"} <= set(tokens)
    # the branch in brackets is its own run, with its jieba words
    assert {"人民", "广场", "renminguangchangdian", "rmgcd", "renmin", "guangchang"} <= set(tokens)
    assert len(tokens) == len(set(tokens))


def test_every_substring_of_a_dish_is_reachable_although_jieba_cuts_it_differently():
    tokens = set(index_tokens("宫保鸡丁"))
    assert {"宫", "保", "鸡", "丁", "宫保", "保鸡", "鸡丁"} <= tokens  # jieba says 宫保鸡 / 丁
    assert {"gongbaojiding", "gbjd", "gongbao", "gb"} <= tokens


def test_latin_and_digits_kept_as_words_and_mixed_text_split():
    assert index_tokens("Wagas沃歌斯 7-11") == ("wagas", "沃", "沃歌", "歌", "歌斯", "斯",
                                                   "wogesi", "wgs", "7", "11")


def test_punctuation_and_emoji_are_separators_only():
    assert index_tokens("！！🍔…") == ()
    assert query_terms("？？？") == []


def test_query_terms():
    assert query_terms("宫保鸡丁") == [QueryTerm("宫保", False), QueryTerm("保鸡", False),
                                   QueryTerm("鸡丁", False)]
    assert query_terms("鸡") == [QueryTerm("鸡", False)]  # Han matching is substring matching
    assert query_terms("MDL") == [QueryTerm("mdl", True)]
    assert query_terms("x") == [QueryTerm("x", False)]  # one letter: no prefix expansion
    assert query_terms("鸡丁 鸡丁") == [QueryTerm("鸡丁", False)]


def test_long_queries_are_capped():
    assert len(query_terms("麦当劳人民广场店很好吃的汉堡包套餐")) == 8


def test_latin_words_replace():
    assert latin_words_replace("Maidanglo 汉堡", {"maidanglo": "maidanglao"}) == "maidanglao 汉堡"


@given(st.text(max_size=40))
def test_every_token_fits_the_index_alphabet(raw):
    for token in index_tokens(raw):
        assert TOKEN.match(token), token
    for term in query_terms(raw):
        assert TOKEN.match(term.token), term
