"""The aggregation engine a request's analytics read through (the one seam to `rollups`)."""

from typing import Annotated

from fastapi import Depends

from nps_service.rollups import SqlTotals, TotalsEngine
from nps_service.web.session import SessionDep, SettingsDep


async def totals_engine(session: SessionDep, settings: SettingsDep) -> TotalsEngine:
    """The SQL engine over this request's session (async: building it does no I/O).

    A second backend would be chosen here, once, for every analytic endpoint.
    """
    return SqlTotals(session, max_groups=settings.max_groups)


TotalsDep = Annotated[TotalsEngine, Depends(totals_engine)]
