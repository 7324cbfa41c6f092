"""A loopback imitation of LinkedIn's Messages API as we would meet it (PLATFORMS.md §5).

Member-to-member messaging is restricted to approved partners, so every send is refused with the
403 an app without the permission gets (2nd). It exists to show why LinkedIn is a manual channel.
"""

import re

from outreach.sandbox.base import FakePlatform, Received, Reply

NOT_ENOUGH_PERMISSIONS = {
    "serviceErrorCode": 100,
    "message": "Not enough permissions to access: POST /messages",
    "status": 403,
}


class FakeLinkedIn(FakePlatform):
    """`POST /v2/messages` always answers 403 serviceErrorCode 100."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        super().__init__(host=host, port=port)
        self.route("POST", r"/v2/messages", self._refuse)

    def _refuse(self, received: Received, match: re.Match) -> Reply:
        return Reply(403, dict(NOT_ENOUGH_PERMISSIONS))
