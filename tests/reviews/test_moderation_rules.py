"""The moderation rules (pure), with examples."""

from __future__ import annotations

from linli.reviews import moderation as m

WORDS = ("微信", "vx", "刷单")


def test_normalise_folds_full_width_case_spaces_and_punctuation():
    assert m.normalise("加 ＶＸ：ABC　１２３！") == "加vxabc123"


def test_sensitive_words_hide_behind_spaces_full_width_and_dots():
    assert m.sensitive_words_in("好吃，加微 信领红包", WORDS) == ["微信"]
    assert m.sensitive_words_in("联系 Ｖ.Ｘ 有惊喜", WORDS) == ["vx"]
    assert m.sensitive_words_in("味道不错，下次再来", WORDS) == []


def test_similarity_of_near_copies():
    a = "这家店的菜很好吃，分量足，下次还来"
    assert m.similarity(a, a + "!") == 1.0
    assert m.similarity(a, "这家店的菜很好吃,分量足,下次还来哦") >= 0.9
    assert m.similarity(a, "送餐太慢了，汤都洒了，不推荐") < 0.3


def test_short_texts_are_never_repeats():
    assert not m.is_repeat("好吃", ["好吃", "好吃"])
    assert m.is_repeat("这家店的菜很好吃分量足", ["这家店的菜很好吃分量足!"])


def test_burst_only_for_new_accounts_over_the_limit():
    assert m.is_burst(account_age_days=1, new_account_reviews_last_hour=3, new_account_days=7, burst_limit=3)
    assert not m.is_burst(account_age_days=1, new_account_reviews_last_hour=2, new_account_days=7, burst_limit=3)
    assert not m.is_burst(account_age_days=30, new_account_reviews_last_hour=10, new_account_days=7, burst_limit=3)


def test_verdict_lists_every_reason():
    rules = m.Rules(words=WORDS, new_account_days=7, burst_limit=3)
    clean = m.review_verdict(m.Submission(text="味道很好"), rules)
    assert not clean.hold and clean.reasons == ()
    bad = m.review_verdict(m.Submission(
        text="刷单好评返现联系我们吧", own_recent_texts=["刷单好评返现联系我们吧!"], account_age_days=0.5,
        new_account_reviews_last_hour=5), rules)
    assert bad.hold
    assert bad.reasons == (m.SENSITIVE_WORD, m.REPEATED_TEXT, m.NEW_ACCOUNT_BURST)
    assert bad.words == ("刷单",)
