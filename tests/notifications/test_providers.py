"""The Aliyun SMS adapter: Aliyun's documented signature example, the signed URL, and that
nothing is sent unless it is configured."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from linli.notifications.providers import (
    AliyunSmsProvider,
    ProviderError,
    aliyun_signature,
    aliyun_sms_request,
)


def test_the_signature_matches_aliyuns_documented_example():
    params = {"AccessKeyId": "testId", "Action": "SendSms", "Format": "XML", "OutId": "123",
              "PhoneNumbers": "15300000001", "RegionId": "cn-hangzhou", "SignName": "阿里云短信测试专用",
              "SignatureMethod": "HMAC-SHA1", "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
              "SignatureVersion": "1.0", "TemplateCode": "SMS_71390007", "TemplateParam": '{"customer":"test"}',
              "Timestamp": "2017-07-12T02:42:19Z", "Version": "2017-05-25"}
    assert aliyun_signature(params, "testSecret") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def test_the_send_sms_url_carries_the_text_as_the_template_parameter_and_verifies():
    url = aliyun_sms_request(access_key_id="testId", secret="testSecret", phone="+8613800000001",
                             sign_name="邻里", template_code="SMS_1", template_param={"content": "订单已接单"},
                             timestamp=datetime(2026, 11, 25, 12, 0, tzinfo=UTC), nonce="n1")
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert parts.netloc == "dysmsapi.aliyuncs.com" and query["PhoneNumbers"] == "13800000001"
    assert query["TemplateParam"] == '{"content":"订单已接单"}' and query["Timestamp"] == "2026-11-25T12:00:00Z"
    signature = query.pop("Signature")
    assert aliyun_signature(query, "testSecret") == signature  # what Aliyun recomputes


def test_an_unconfigured_aliyun_provider_refuses_and_sends_nothing(settings):
    settings.LINLI_ALIYUN_SMS_ACCESS_KEY_ID = ""
    with pytest.raises(ProviderError, match="not configured"):
        AliyunSmsProvider().send(phone="+8613800000001", text="x")
