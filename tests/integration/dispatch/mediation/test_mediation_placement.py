"""The mediation service with `engine = auto` and no Janus configured: a session of 7
parties is refused with the reason the officer reads (and nothing is written); one of 6
opens on the hub's star as before."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from dispatch.domain.wire import ErrorCode, HubError
from dispatch.events.service import HubService
from dispatch.mediation import store as ms
from dispatch.mediation.messages import MediationInvite
from dispatch.mediation.service import MediationService
from tests.integration.dispatch.mediation.test_mediation_service import HOST, Rig, new_event, run

pytestmark = pytest.mark.integration

SIX = [MediationInvite(role="mediator", name="调解员")] + [
    MediationInvite(role="party", name=f"当事人{i}") for i in range(5)
]


def test_auto_without_janus_refuses_seven_parties_and_opens_six(tmp_path: Path) -> None:
    rig = Rig(tmp_path)

    async def body(hub: HubService, med: MediationService) -> None:
        assert med.placement.engine == "auto" and not med.janus.available()
        eid = await new_event(hub)
        n = len(rig.published)
        with pytest.raises(HubError) as refused:
            await med.open(HOST, eid, SIX, timedelta(hours=1))  # + the console: 7
        assert refused.value.code is ErrorCode.INVALID
        assert "7 方的调解需要 Janus 视频会议服务（本中心未配置 [janus]）" in refused.value.message
        assert len(rig.published) == n  # nothing written, nothing published
        assert ms.open_sessions(hub.engine) == []
        sess, links, _, _ = await med.open(HOST, eid, SIX[:5], timedelta(hours=1))
        assert sess.janus is None and len(links) == 5  # 6 parties: the star

    run(rig.life(body))
