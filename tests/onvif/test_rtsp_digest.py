"""Digest arithmetic checked against RFC 2617's worked example, and challenge parsing of real headers."""

from __future__ import annotations

from provisioning.rtsp.digest import Authorizer, parse_challenges


def test_rfc2617_example_response():
    challenges = parse_challenges(
        [
            'Digest realm="testrealm@host.com", qop="auth,auth-int", '
            'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
        ]
    )
    header = Authorizer("Mufasa", "Circle Of Life", challenges, cnonce=lambda: "0a4f113b").header(
        "GET", "/dir/index.html"
    )
    assert header is not None
    assert 'response="6629fae49393a05397450978507c4ef1"' in header
    assert (
        "qop=auth" in header
        and "nc=00000001" in header
        and 'opaque="5ccc069c403ebaf9f0171e9517f40e41"' in header
    )


def test_digest_preferred_over_basic_and_basic_only_when_allowed():
    both = parse_challenges(['Basic realm="cam"', 'Digest realm="cam", nonce="abc"'])
    assert Authorizer("u", "p", both, allow_basic=True).scheme == "digest"
    only_basic = parse_challenges(['Basic realm="cam"'])
    refused = Authorizer("Aladdin", "open sesame", only_basic)
    assert (refused.scheme, refused.header("DESCRIBE", "rtsp://x/")) == (None, None)
    basic = Authorizer("Aladdin", "open sesame", only_basic, allow_basic=True)
    assert basic.header("DESCRIBE", "rtsp://x/") == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
