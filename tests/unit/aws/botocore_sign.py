#!/usr/bin/python3
"""Signs requests with botocore's own SigV4Auth at a fixed time and prints the results as JSON.

Run with Debian's /usr/bin/python3 (python3-botocore). botocore_sigv4_test.cc runs it and checks that
hasg::aws::sign() produces a byte-identical Authorization header for the same requests.

Always signs a DescribeAutoScalingGroups call exactly as the SDK sends it (POST, form body), without and with a
session token. An optional argv[1] holds a JSON list of extra cases:
  [{"name", "method", "url", "headers": [[name, value], ...], "body", "token", "region", "service"}]

Output: {"amz_date": ..., "cases": [{"name", "method", "url", "body", "headers" (as given),
          "signed_headers" ({lowercase name: value} that botocore signed), "canonical_request", "string_to_sign",
          "authorization"}]}
"""
import datetime
import json
import sys
from unittest import mock

try:
    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
except ImportError as e:  # the C++ test skips on this exit code
    print(f"botocore is not available: {e}", file=sys.stderr)
    sys.exit(3)

FIXED_TIME = datetime.datetime(2024, 5, 6, 7, 8, 9)  # naive UTC, what botocore's utcnow() returns
ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "FwoGZXIvYXdzEXAMPLE//////////wEaDEXAMPLE+token/with+plus=and=padding=="

DESCRIBE_ASG = {
    "method": "POST",
    "url": "https://autoscaling.us-east-1.amazonaws.com/",
    "headers": [["Content-Type", "application/x-www-form-urlencoded; charset=utf-8"]],
    "body": "Action=DescribeAutoScalingGroups&Version=2011-01-01"
            "&AutoScalingGroupNames.member.1=app&MaxRecords=100",
    "region": "us-east-1",
    "service": "autoscaling",
}


class FrozenDateTime(datetime.datetime):
    """datetime.datetime with a fixed clock, for botocore versions using utcnow() or now(timezone.utc)."""

    @classmethod
    def utcnow(cls):
        return cls(*FIXED_TIME.timetuple()[:6])

    @classmethod
    def now(cls, tz=None):
        now = cls.utcnow()
        return now.replace(tzinfo=datetime.timezone.utc).astimezone(tz) if tz else now


class RecordingSigV4Auth(botocore.auth.SigV4Auth):
    """SigV4Auth that keeps what it computed, so a mismatch shows where it starts."""

    def canonical_request(self, request):
        self.last_canonical_request = super().canonical_request(request)
        return self.last_canonical_request

    def string_to_sign(self, request, canonical_request):
        self.last_string_to_sign = super().string_to_sign(request, canonical_request)
        return self.last_string_to_sign


def sign(case):
    request = AWSRequest(method=case["method"], url=case["url"], data=case["body"].encode("utf-8"))
    for name, value in case["headers"]:
        request.headers[name] = value
    credentials = Credentials(ACCESS_KEY, SECRET_KEY, case.get("token") or None)
    auth = RecordingSigV4Auth(credentials, case["service"], case["region"])
    with mock.patch.object(botocore.auth.datetime, "datetime", FrozenDateTime):
        auth.add_auth(request)
    signed = auth.headers_to_sign(request)  # recomputed after signing, Authorization aside
    return {
        "name": case["name"],
        "method": case["method"],
        "url": case["url"],
        "body": case["body"],
        "headers": case["headers"],
        "token": case.get("token", ""),
        "signed_headers": {k: v for k, v in signed.items() if k != "authorization"},
        "canonical_request": auth.last_canonical_request,
        "string_to_sign": auth.last_string_to_sign,
        "authorization": request.headers["Authorization"],
    }


def main():
    cases = [dict(DESCRIBE_ASG, name="describe_asg"),
             dict(DESCRIBE_ASG, name="describe_asg_session_token", token=SESSION_TOKEN)]
    if len(sys.argv) > 1:
        cases += json.loads(sys.argv[1])
    print(json.dumps({
        "amz_date": FIXED_TIME.strftime("%Y%m%dT%H%M%SZ"),
        "access_key_id": ACCESS_KEY,
        "secret_access_key": SECRET_KEY,
        "session_token": SESSION_TOKEN,
        "cases": [sign(c) for c in cases],
    }, indent=2))


if __name__ == "__main__":
    main()
