"""Wrong credentials fail when the interface is made, not at the first transfer (issue #16).

S3 answers a HEAD with a bare 403 (a HEAD answer has no body to say why), which the bucket check
took for "the bucket exists but is not yours" and so accepted any keys. The fault proxy answers
as S3 does to wrong keys; one more request, whose answer names the reason, tells them apart.
"""

from __future__ import annotations

import pytest

from cc_backend_s3.retry import S3AccessError


@pytest.mark.parametrize("code", ["InvalidAccessKeyId", "SignatureDoesNotMatch"])
def test_wrong_credentials_fail_at_construction(proxied, fault_proxy, code):
    fault_proxy.add("status", status=403, code=code, times=None)
    with pytest.raises(S3AccessError, match=f"rejected the credentials.*{code}.*access key and secret key"):
        proxied()
    assert len(fault_proxy.requests()) == 2  # the bucket check and the one request that says why


def test_a_bucket_that_denies_listing_is_still_usable(proxied, fault_proxy, s3_bucket):
    fault_proxy.add("status", method="HEAD", status=403, code="AccessDenied", times=1)
    fault_proxy.add("status", method="GET", target=r"list-type=2", status=403, code="AccessDenied", times=1)
    interface = proxied()
    assert interface.bucket_name == s3_bucket
