"""Each shipped guide walked through 400 days for two contrasting relatives.

The expected timelines below were generated once from the planner and then read line
by line for sense: the opening module at activation, everything else at 09:00 local
time (also across the daylight-saving changes of 29 March and 25 October 2026), never
two e-mails on one day, phases that end by themselves on the day their duration says,
and each scripted answer changing the journey at once. A content change that moves a
release makes these tests fail on purpose: run `python -m tests.test_shipped_journeys`
to print the new timelines, read them, and paste them in.

The "tyst" (silent) relatives never answer a check-in; they are also walked through
the database path (enrolment, release passes at each next due moment, outbox), which
must give exactly the same releases, check-ins and phase changes.

`pytest -s` prints each relative's first 365 days as module ids by day.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select

from guide.content.loader import load_library
from guide.content.model import Checkin, Library
from guide.extensions import db
from guide.models import (
    CapturedMail,
    CheckinInstance,
    Enrolment,
    ModuleVersion,
    OutboxMessage,
    PhaseVisitRow,
    Release,
)
from guide.services.library import current_library
from scheduler.jobs import deliver_outbox, release_due
from scheduler.planner import EnrolmentState
from scheduler.simulate import Journey, JourneyEvent, Respond, simulate
from tests.conftest import SHIPPED_CONTENT
from tests.factories import enrol, issue_cards, make_tenant

STOCKHOLM = ZoneInfo("Europe/Stockholm")
ACTIVATED = datetime(2026, 2, 16, 14, 37, tzinfo=STOCKHOLM)  # a Monday afternoon
UNTIL = ACTIVATED + timedelta(days=400)
KIND_ORDER = ("phase", "release", "checkin", "answer", "alert", "crisis", "mute")


@dataclass(frozen=True)
class Relative:
    """A relative: their profile answers and, per check-in, their answers in turn."""

    guide: str
    name: str
    profile: Mapping[str, object]
    script: Mapping[str, list[Mapping[str, object]]] = field(default_factory=dict)

    @property
    def silent(self) -> bool:
        return not self.script

    def respond(self) -> Respond:
        remaining = {checkin: list(answers) for checkin, answers in self.script.items()}

        def answer(checkin: Checkin, _moment: datetime) -> Mapping[str, object] | None:
            queue = remaining.get(checkin.id)
            return queue.pop(0) if queue else None

        return answer  # type: ignore[return-value]


RELATIVES = {
    ("aterhamtning", "tyst"): Relative(
        "aterhamtning",
        "tyst",
        {"relation": "foralder", "bor-tillsammans": "yes", "barn-i-familjen": "yes"},
    ),
    ("aterhamtning", "svarar"): Relative(
        "aterhamtning",
        "svarar",
        {"relation": "syskon", "bor-tillsammans": "no", "barn-i-familjen": "no"},
        {
            "hur-mar-du": [
                {"ork": 2, "morka-tankar": "nej", "vill-bli-kontaktad": "no"},
                {"ork": 3, "hant-i-varden": frozenset({"inlagd", "utskriven"})},
            ],
            "vardlaget": [{"inlagd-nu": "no"}, {"inlagd-nu": "yes"}],
            "under-vardtiden": [
                {"utskriven": "no", "vill-ha-kontakt-avdelning": "yes"},
                {"utskriven": "yes", "vill-ha-kontakt-avdelning": "no"},
            ],
            "efter-utskrivningen": [
                {"vard-efter-utskrivning": "yes", "inlagd-igen-tidigt": "no"},
                {"oro-sjalvmord-efter": "yes"},
            ],
        },
    ),
    ("demenslots", "tyst"): Relative(
        "demenslots",
        "tyst",
        {"relation": "partner", "bor-tillsammans": "yes", "arbetar": "no", "yngre": "yes"},
    ),
    ("demenslots", "svarar"): Relative(
        "demenslots",
        "svarar",
        {
            "relation": "barn",
            "bor-tillsammans": "no",
            "arbetar": "yes",
            "yngre": "no",
            "barn-i-familjen": "yes",
        },
        {
            "efter-utredningen": [{"diagnos-klar": "nej"}, {"diagnos-klar": "demens"}],
            "hur-orkar-du": [
                {"ork": 4, "sover": "yes", "vill-bli-kontaktad": "no"},
                {"ork": 2, "sover": "no", "humor": "ofta", "vill-bli-kontaktad": "yes"},
            ],
            "vardagen-tidig": [{"vardag-tidig": "hjalp-dagligen", "flyttat-tidig": "no"}],
            "vardagen-mellan": [
                {"vardag-mellan": "som-forut", "flyttat-mellan": "no"},
                {"vardag-mellan": "som-forut", "flyttat-mellan": "yes"},
            ],
            "pa-boendet": [
                {"oro-boendet": "no", "livets-slut-boende": "no"},
                {"oro-boendet": "no", "livets-slut-boende": "no"},
                {"oro-boendet": "yes", "livets-slut-boende": "yes"},
            ],
            "i-livets-slut": [{"har-avlidit": "no"}, {"har-avlidit": "yes"}],
        },
    ),
    ("demenslots", "frisk"): Relative(
        "demenslots",
        "frisk",
        {"relation": "partner", "bor-tillsammans": "yes", "arbetar": "no"},
        {"efter-utredningen": [{"diagnos-klar": "inte-demens"}]},
    ),
    ("efterlevande", "tyst"): Relative(
        "efterlevande",
        "tyst",
        {"relation": "partner", "barn-i-familjen": "yes", "sysselsattning": "arbetar"},
    ),
    ("efterlevande", "svarar"): Relative(
        "efterlevande",
        "svarar",
        {
            "dodsdatum": "2026-02-14",
            "relation": "van",
            "barn-i-familjen": "no",
            "sysselsattning": "annat",
            "hittade": "yes",
        },
        {
            "forsta-dagarna": [{"ork-forsta": 1, "morka-tankar-forsta": "nej"}],
            "ett-halvar": [{"oro-for-barn-halvar": "yes"}],
            "hur-har-du-det": [
                {"ork": 3, "morka-tankar": "nej", "vill-bli-kontaktad": "no"},
                {"ork": 2, "morka-tankar": "nej", "vill-bli-kontaktad": "yes"},
            ],
            "stod-hittills": [{"fatt-kontakt": "no", "oro-for-barn": "no"}],
        },
    ),
    # Gets the card 40 days after the death (7 January) and never answers.
    ("efterlevande", "sent"): Relative(
        "efterlevande",
        "sent",
        {
            "dodsdatum": "2026-01-07",
            "relation": "barn",
            "barn-i-familjen": "yes",
            "sysselsattning": "arbetar",
        },
    ),
}

EXPECTED = {
    # A parent who lives with their child and has younger children at home; never answers.
    # What to do when the person talks about not wanting to live comes the day after
    # activation, the text for parents of an adult child on day 3. First contact ends by
    # itself after 28 days (16 March) and the long-term phase begins.
    ("aterhamtning", "tyst"): """
        2026-02-16 14:37 release forsta-kontakt: valkommen
        2026-02-17 09:00 release om-hen-inte-vill-leva
        2026-02-18 09:00 release forsta-kontakten-med-psykiatrin
        2026-02-19 09:00 release nar-ditt-barn-ar-vuxet
        2026-02-19 09:00 checkin vardlaget
        2026-02-21 09:00 release sekretess-och-samtycke
        2026-02-23 09:00 release nar-hen-inte-vill-ha-hjalp
        2026-02-23 09:00 checkin hur-mar-du
        2026-02-24 09:00 checkin vardlaget
        2026-02-25 09:00 release den-normala-gangen
        2026-02-28 09:00 release barn-i-familjen
        2026-03-01 09:00 checkin vardlaget
        2026-03-06 09:00 release ta-hand-om-dig-sjalv
        2026-03-06 09:00 checkin vardlaget
        2026-03-09 09:00 release nar-det-blir-hotfullt
        2026-03-11 09:00 checkin vardlaget
        2026-03-12 09:00 release alkohol-och-droger
        2026-03-16 09:00 phase langsiktigt
        2026-03-16 09:00 release vad-ar-aterhamtning
        2026-03-16 09:00 checkin hur-mar-du
        2026-03-20 09:00 release nar-krisen-kommer
        2026-03-25 09:00 release din-egen-situation
        2026-03-28 09:00 release pengar-och-praktiskt-stod
        2026-04-06 09:00 checkin hur-mar-du
        2026-04-13 09:00 release verktyg-och-granser
        2026-04-15 09:00 checkin lagesbild
        2026-04-20 09:00 release stodet-runt-dig
        2026-04-27 09:00 checkin hur-mar-du
        2026-05-05 09:00 release andra-anhoriga
        2026-05-15 09:00 checkin lagesbild
        2026-05-18 09:00 checkin hur-mar-du
        2026-06-08 09:00 checkin hur-mar-du
        2026-06-14 09:00 checkin lagesbild
        2026-06-29 09:00 checkin hur-mar-du
        2026-07-14 09:00 checkin lagesbild
        2026-07-20 09:00 checkin hur-mar-du
        2026-08-10 09:00 checkin hur-mar-du
        2026-08-13 09:00 checkin lagesbild
        2026-08-31 09:00 checkin hur-mar-du
        2026-09-12 09:00 checkin lagesbild
        2026-09-21 09:00 checkin hur-mar-du
        2026-10-12 09:00 checkin hur-mar-du
        2026-10-12 09:00 checkin lagesbild
        2026-11-02 09:00 checkin hur-mar-du
        2026-11-11 09:00 checkin lagesbild
        2026-11-23 09:00 checkin hur-mar-du
        2026-12-11 09:00 checkin lagesbild
        2026-12-14 09:00 checkin hur-mar-du
        2027-01-04 09:00 checkin hur-mar-du
        2027-01-10 09:00 checkin lagesbild
        2027-01-25 09:00 checkin hur-mar-du
        2027-02-09 09:00 checkin lagesbild
        2027-02-15 09:00 checkin hur-mar-du
        2027-03-08 09:00 checkin hur-mar-du
        2027-03-11 09:00 checkin lagesbild
    """,
    # A sibling, living apart, no children; low energy at the first check-in, the person is
    # admitted on 24 February and discharged on 3 March. On 13 March the sibling is worried
    # that the person will take their life: crisis text and an urgent alert. On 16 March the
    # wellbeing check-in says the person was admitted and discharged again since the last
    # answer, so the discharge phase starts over. ta-hand-om-dig-sjalv never comes: its 18
    # days belong to first contact or inpatient care, and both ended earlier.
    ("aterhamtning", "svarar"): """
        2026-02-16 14:37 release forsta-kontakt: valkommen
        2026-02-17 09:00 release om-hen-inte-vill-leva
        2026-02-18 09:00 release forsta-kontakten-med-psykiatrin
        2026-02-19 09:00 checkin vardlaget
        2026-02-19 09:00 answer vardlaget
        2026-02-21 09:00 release sekretess-och-samtycke
        2026-02-23 09:00 release nar-hen-inte-vill-ha-hjalp
        2026-02-23 09:00 release nar-orken-tar-slut
        2026-02-23 09:00 checkin hur-mar-du
        2026-02-23 09:00 answer hur-mar-du
        2026-02-23 09:00 alert hur-mar-du
        2026-02-24 09:00 phase slutenvard
        2026-02-24 09:00 release nar-nagon-blir-inlagd
        2026-02-24 09:00 checkin vardlaget
        2026-02-24 09:00 answer vardlaget
        2026-02-26 09:00 release under-vardtiden
        2026-02-27 09:00 checkin under-vardtiden
        2026-02-27 09:00 answer under-vardtiden
        2026-02-27 09:00 alert under-vardtiden
        2026-03-01 09:00 release infor-utskrivningen
        2026-03-03 09:00 phase utskrivning
        2026-03-03 09:00 release hemma-igen
        2026-03-03 09:00 checkin under-vardtiden
        2026-03-03 09:00 answer under-vardtiden
        2026-03-06 09:00 checkin efter-utskrivningen
        2026-03-06 09:00 answer efter-utskrivningen
        2026-03-07 09:00 release nar-krisen-kommer
        2026-03-11 09:00 release samordning-och-sip
        2026-03-13 09:00 checkin efter-utskrivningen
        2026-03-13 09:00 answer efter-utskrivningen
        2026-03-13 09:00 alert efter-utskrivningen
        2026-03-13 09:00 crisis efter-utskrivningen
        2026-03-15 09:00 release pengar-och-praktiskt-stod
        2026-03-16 09:00 phase slutenvard
        2026-03-16 09:00 phase utskrivning
        2026-03-16 09:00 checkin hur-mar-du
        2026-03-16 09:00 answer hur-mar-du
        2026-03-19 09:00 checkin efter-utskrivningen
        2026-03-26 09:00 checkin efter-utskrivningen
        2026-04-02 09:00 checkin efter-utskrivningen
        2026-04-06 09:00 release nar-det-blir-hotfullt
        2026-04-06 09:00 checkin hur-mar-du
        2026-04-09 09:00 release alkohol-och-droger
        2026-04-09 09:00 checkin efter-utskrivningen
        2026-04-15 09:00 phase langsiktigt
        2026-04-15 09:00 release vad-ar-aterhamtning
        2026-04-24 09:00 release din-egen-situation
        2026-04-27 09:00 checkin hur-mar-du
        2026-05-13 09:00 release verktyg-och-granser
        2026-05-15 09:00 checkin lagesbild
        2026-05-18 09:00 checkin hur-mar-du
        2026-05-20 09:00 release stodet-runt-dig
        2026-06-04 09:00 release andra-anhoriga
        2026-06-08 09:00 checkin hur-mar-du
        2026-06-14 09:00 checkin lagesbild
        2026-06-29 09:00 checkin hur-mar-du
        2026-07-14 09:00 checkin lagesbild
        2026-07-20 09:00 checkin hur-mar-du
        2026-08-10 09:00 checkin hur-mar-du
        2026-08-13 09:00 checkin lagesbild
        2026-08-31 09:00 checkin hur-mar-du
        2026-09-12 09:00 checkin lagesbild
        2026-09-21 09:00 checkin hur-mar-du
        2026-10-12 09:00 checkin hur-mar-du
        2026-10-12 09:00 checkin lagesbild
        2026-11-02 09:00 checkin hur-mar-du
        2026-11-11 09:00 checkin lagesbild
        2026-11-23 09:00 checkin hur-mar-du
        2026-12-11 09:00 checkin lagesbild
        2026-12-14 09:00 checkin hur-mar-du
        2027-01-04 09:00 checkin hur-mar-du
        2027-01-10 09:00 checkin lagesbild
        2027-01-25 09:00 checkin hur-mar-du
        2027-02-09 09:00 checkin lagesbild
        2027-02-15 09:00 checkin hur-mar-du
        2027-03-08 09:00 checkin hur-mar-du
        2027-03-11 09:00 checkin lagesbild
    """,
    # A partner who lives with the person and never answers: the assessment phase ends only
    # when the relative says the diagnosis is made, so the guide waits there, asking. The
    # person is younger than 65, so the text on dementia in younger people comes on day 10.
    ("demenslots", "tyst"): """
        2026-02-16 14:37 release utredning: valkommen
        2026-02-19 09:00 release minnesutredningen
        2026-02-23 09:00 release anhorigkonsulenten
        2026-02-26 09:00 release demens-hos-yngre
        2026-03-02 09:00 checkin efter-utredningen
        2026-03-02 09:00 checkin hur-orkar-du
        2026-03-16 09:00 checkin efter-utredningen
        2026-03-30 09:00 checkin efter-utredningen
        2026-04-01 09:00 checkin hur-orkar-du
        2026-04-13 09:00 checkin efter-utredningen
        2026-04-27 09:00 checkin efter-utredningen
        2026-05-01 09:00 checkin hur-orkar-du
        2026-05-11 09:00 checkin efter-utredningen
        2026-05-25 09:00 checkin efter-utredningen
        2026-05-31 09:00 checkin hur-orkar-du
        2026-06-08 09:00 checkin efter-utredningen
        2026-06-22 09:00 checkin efter-utredningen
        2026-06-30 09:00 checkin hur-orkar-du
        2026-07-06 09:00 checkin efter-utredningen
        2026-07-20 09:00 checkin efter-utredningen
        2026-07-30 09:00 checkin hur-orkar-du
        2026-08-03 09:00 checkin efter-utredningen
        2026-08-17 09:00 checkin efter-utredningen
        2026-08-29 09:00 checkin hur-orkar-du
        2026-08-31 09:00 checkin efter-utredningen
        2026-09-14 09:00 checkin efter-utredningen
        2026-09-28 09:00 checkin efter-utredningen
        2026-09-28 09:00 checkin hur-orkar-du
        2026-10-12 09:00 checkin efter-utredningen
        2026-10-26 09:00 checkin efter-utredningen
        2026-10-28 09:00 checkin hur-orkar-du
        2026-11-09 09:00 checkin efter-utredningen
        2026-11-23 09:00 checkin efter-utredningen
        2026-11-27 09:00 checkin hur-orkar-du
        2026-12-07 09:00 checkin efter-utredningen
        2026-12-21 09:00 checkin efter-utredningen
        2026-12-27 09:00 checkin hur-orkar-du
        2027-01-04 09:00 checkin efter-utredningen
        2027-01-18 09:00 checkin efter-utredningen
        2027-01-26 09:00 checkin hur-orkar-du
        2027-02-01 09:00 checkin efter-utredningen
        2027-02-15 09:00 checkin efter-utredningen
        2027-02-25 09:00 checkin hur-orkar-du
        2027-03-01 09:00 checkin efter-utredningen
        2027-03-15 09:00 checkin efter-utredningen
    """,
    # A working adult child who lives apart (so pa-avstand comes), with children in the
    # family, and answers: diagnosis on 16 March; on 1 April low energy, poor sleep, low mood
    # most of the time and a wish to be contacted; more help needed by May, a move to a care
    # home in August, the end of life in October and death in November; then the grief
    # modules of the time after.
    ("demenslots", "svarar"): """
        2026-02-16 14:37 release utredning: valkommen
        2026-02-19 09:00 release minnesutredningen
        2026-02-23 09:00 release anhorigkonsulenten
        2026-03-02 09:00 checkin efter-utredningen
        2026-03-02 09:00 checkin hur-orkar-du
        2026-03-02 09:00 answer efter-utredningen
        2026-03-02 09:00 answer hur-orkar-du
        2026-03-16 09:00 phase tidig
        2026-03-16 09:00 release efter-diagnosen
        2026-03-16 09:00 checkin efter-utredningen
        2026-03-16 09:00 answer efter-utredningen
        2026-03-30 09:00 release bemotande
        2026-04-01 09:00 release nar-du-sjalv-mar-daligt
        2026-04-01 09:00 release nar-orken-tar-slut
        2026-04-01 09:00 checkin hur-orkar-du
        2026-04-01 09:00 answer hur-orkar-du
        2026-04-01 09:00 alert hur-orkar-du
        2026-04-01 09:00 alert hur-orkar-du
        2026-04-01 09:00 alert hur-orkar-du
        2026-04-02 09:00 release barn-i-familjen
        2026-04-06 09:00 release framtidsfullmakt-och-ekonomi
        2026-04-11 09:00 release nar-du-arbetar
        2026-04-15 09:00 release hjalpmedel-och-larm
        2026-04-23 09:00 release pa-avstand
        2026-04-30 09:00 release din-egen-halsa
        2026-05-01 09:00 checkin hur-orkar-du
        2026-05-07 09:00 release bostadsanpassning-och-fardtjanst
        2026-05-15 09:00 phase mellan
        2026-05-15 09:00 release mellanskedet
        2026-05-15 09:00 checkin vardagen-tidig
        2026-05-15 09:00 answer vardagen-tidig
        2026-05-19 09:00 release avlosning
        2026-05-27 09:00 release dagverksamhet-och-vaxelvard
        2026-05-31 09:00 checkin hur-orkar-du
        2026-06-09 09:00 release nar-beteendet-forandras
        2026-06-29 09:00 checkin vardagen-mellan
        2026-06-29 09:00 answer vardagen-mellan
        2026-06-30 09:00 checkin hur-orkar-du
        2026-07-30 09:00 checkin hur-orkar-du
        2026-08-13 09:00 phase sarskilt-boende
        2026-08-13 09:00 release flytten-till-boendet
        2026-08-13 09:00 checkin vardagen-mellan
        2026-08-13 09:00 answer vardagen-mellan
        2026-08-27 09:00 release din-roll-pa-boendet
        2026-08-27 09:00 checkin pa-boendet
        2026-08-27 09:00 answer pa-boendet
        2026-08-29 09:00 checkin hur-orkar-du
        2026-09-26 09:00 checkin pa-boendet
        2026-09-26 09:00 answer pa-boendet
        2026-09-28 09:00 checkin hur-orkar-du
        2026-10-26 09:00 phase livets-slut
        2026-10-26 09:00 release livets-slutskede
        2026-10-26 09:00 checkin pa-boendet
        2026-10-26 09:00 answer pa-boendet
        2026-10-26 09:00 alert pa-boendet
        2026-10-28 09:00 checkin hur-orkar-du
        2026-10-30 09:00 release att-vara-nara-pa-slutet
        2026-11-02 09:00 checkin i-livets-slut
        2026-11-02 09:00 answer i-livets-slut
        2026-11-09 09:00 phase efterat
        2026-11-09 09:00 release nar-din-narstaende-har-dott
        2026-11-09 09:00 checkin i-livets-slut
        2026-11-09 09:00 answer i-livets-slut
        2026-11-27 09:00 checkin hur-orkar-du
        2026-11-30 09:00 release sorgen-efterat
        2026-12-27 09:00 checkin hur-orkar-du
        2027-01-26 09:00 checkin hur-orkar-du
        2027-02-07 09:00 release livet-vidare
        2027-02-25 09:00 checkin hur-orkar-du
    """,
    # A partner whose assessment finds no dementia: the text for that comes at once, the
    # assessment phase and its check-in stop, and only the wellbeing check-in goes on.
    ("demenslots", "frisk"): """
        2026-02-16 14:37 release utredning: valkommen
        2026-02-19 09:00 release minnesutredningen
        2026-02-23 09:00 release anhorigkonsulenten
        2026-03-02 09:00 release nar-svaret-inte-ar-demens
        2026-03-02 09:00 checkin efter-utredningen
        2026-03-02 09:00 checkin hur-orkar-du
        2026-03-02 09:00 answer efter-utredningen
        2026-03-02 09:00 mute utredning
        2026-04-01 09:00 checkin hur-orkar-du
        2026-05-01 09:00 checkin hur-orkar-du
        2026-05-31 09:00 checkin hur-orkar-du
        2026-06-30 09:00 checkin hur-orkar-du
        2026-07-30 09:00 checkin hur-orkar-du
        2026-08-29 09:00 checkin hur-orkar-du
        2026-09-28 09:00 checkin hur-orkar-du
        2026-10-28 09:00 checkin hur-orkar-du
        2026-11-27 09:00 checkin hur-orkar-du
        2026-12-27 09:00 checkin hur-orkar-du
        2027-01-26 09:00 checkin hur-orkar-du
        2027-02-25 09:00 checkin hur-orkar-du
    """,
    # A bereaved partner with children at home who works; skips the date and never answers.
    # Without the date everything counts from the day the card was redeemed: how to talk
    # with the children comes at once with the opening text, how to tell others on day 3,
    # money for a partner on day 10, holidays on day 21 and questions for the care provider
    # on day 30. The phases start by themselves on days 14, 104, 351 (the anniversary phase,
    # 2 February 2027) and 395 (the time after the first year).
    ("efterlevande", "tyst"): """
        2026-02-16 14:37 release akut: barn-forsta-dagarna
        2026-02-16 14:37 release de-forsta-dagarna
        2026-02-17 09:00 release vem-gor-vad
        2026-02-19 09:00 release att-beratta-for-andra
        2026-02-19 09:00 checkin forsta-dagarna
        2026-02-20 09:00 release reaktioner
        2026-02-22 09:00 release begravningen
        2026-02-24 09:00 checkin forsta-dagarna
        2026-02-26 09:00 release pengar-for-dig-som-var-partner
        2026-03-01 09:00 checkin forsta-dagarna
        2026-03-02 09:00 phase forsta-tiden
        2026-03-02 09:00 release de-forsta-veckorna
        2026-03-05 09:00 release nar-din-partner-har-dott
        2026-03-06 09:00 checkin hur-har-du-det
        2026-03-07 09:00 release skuld-och-fragan-varfor
        2026-03-09 09:00 release hogtider-och-merkesdagar
        2026-03-09 09:00 checkin stod-hittills
        2026-03-12 09:00 release somn-och-kropp
        2026-03-16 09:00 release barn-och-unga-over-tid
        2026-03-18 09:00 release fragor-till-varden
        2026-03-23 09:00 release arbete-och-studier
        2026-03-27 09:00 checkin hur-har-du-det
        2026-04-16 09:00 release stod-fran-andra
        2026-04-17 09:00 checkin hur-har-du-det
        2026-05-01 09:00 release att-soka-hjalp-for-dig-sjalv
        2026-05-08 09:00 checkin hur-har-du-det
        2026-05-29 09:00 checkin hur-har-du-det
        2026-05-31 09:00 phase forsta-aret
        2026-05-31 09:00 release forsta-aret
        2026-06-19 09:00 checkin hur-har-du-det
        2026-07-10 09:00 checkin hur-har-du-det
        2026-07-31 09:00 checkin hur-har-du-det
        2026-08-14 09:00 release nar-omgivningen-tystnar
        2026-08-19 09:00 checkin ett-halvar
        2026-08-21 09:00 checkin hur-har-du-det
        2026-09-11 09:00 checkin hur-har-du-det
        2026-10-02 09:00 checkin hur-har-du-det
        2026-10-23 09:00 checkin hur-har-du-det
        2026-10-28 09:00 release sorgen-forandras
        2026-11-13 09:00 checkin hur-har-du-det
        2026-12-04 09:00 checkin hur-har-du-det
        2026-12-25 09:00 checkin hur-har-du-det
        2027-01-15 09:00 checkin hur-har-du-det
        2027-02-02 09:00 phase arsdagen
        2027-02-02 09:00 release arsdagen
        2027-02-05 09:00 checkin hur-har-du-det
        2027-02-26 09:00 checkin hur-har-du-det
        2027-03-18 09:00 phase vidare
        2027-03-18 09:00 release vidare
        2027-03-19 09:00 checkin hur-har-du-det
    """,
    # A friend who found the person, no children, not working; the death was on 14 February,
    # two days before the card. What fell due on the days before (who does what, on day 1)
    # stays in the library; the text for the one who found the person (day 2) comes at once
    # with the opening text. Then everything on the days the date gives: how to tell others
    # on day 3, the first-days check-in on days 3, 8 and 13, holidays on day 21 (7 March),
    # questions for the care provider on day 30 (16 March), the anniversary phase on 31
    # January 2027, two weeks before the anniversary. Very low energy in the first days
    # brings a text but no alert; low energy and a wish to be contacted in March do alert.
    # Half a year on the friend worries about a child.
    ("efterlevande", "svarar"): """
        2026-02-16 14:37 release akut: de-forsta-dagarna
        2026-02-16 14:37 release om-du-hittade-hen
        2026-02-17 09:00 release att-beratta-for-andra
        2026-02-17 09:00 release nar-det-ar-for-tungt
        2026-02-17 09:00 checkin forsta-dagarna
        2026-02-17 09:00 answer forsta-dagarna
        2026-02-18 09:00 release reaktioner
        2026-02-20 09:00 release begravningen
        2026-02-22 09:00 checkin forsta-dagarna
        2026-02-27 09:00 checkin forsta-dagarna
        2026-02-28 09:00 phase forsta-tiden
        2026-02-28 09:00 release de-forsta-veckorna
        2026-03-03 09:00 release nar-en-van-har-dott
        2026-03-04 09:00 checkin hur-har-du-det
        2026-03-04 09:00 answer hur-har-du-det
        2026-03-05 09:00 release skuld-och-fragan-varfor
        2026-03-07 09:00 release hogtider-och-merkesdagar
        2026-03-07 09:00 checkin stod-hittills
        2026-03-07 09:00 answer stod-hittills
        2026-03-07 09:00 alert stod-hittills
        2026-03-10 09:00 release somn-och-kropp
        2026-03-16 09:00 release fragor-till-varden
        2026-03-25 09:00 checkin hur-har-du-det
        2026-03-25 09:00 answer hur-har-du-det
        2026-03-25 09:00 alert hur-har-du-det
        2026-03-25 09:00 alert hur-har-du-det
        2026-04-14 09:00 release stod-fran-andra
        2026-04-15 09:00 checkin hur-har-du-det
        2026-04-29 09:00 release att-soka-hjalp-for-dig-sjalv
        2026-05-06 09:00 checkin hur-har-du-det
        2026-05-27 09:00 checkin hur-har-du-det
        2026-05-29 09:00 phase forsta-aret
        2026-05-29 09:00 release forsta-aret
        2026-06-17 09:00 checkin hur-har-du-det
        2026-07-08 09:00 checkin hur-har-du-det
        2026-07-29 09:00 checkin hur-har-du-det
        2026-08-12 09:00 release nar-omgivningen-tystnar
        2026-08-17 09:00 release oro-for-ett-barn
        2026-08-17 09:00 checkin ett-halvar
        2026-08-17 09:00 answer ett-halvar
        2026-08-17 09:00 alert ett-halvar
        2026-08-19 09:00 checkin hur-har-du-det
        2026-09-09 09:00 checkin hur-har-du-det
        2026-09-30 09:00 checkin hur-har-du-det
        2026-10-21 09:00 checkin hur-har-du-det
        2026-10-26 09:00 release sorgen-forandras
        2026-11-11 09:00 checkin hur-har-du-det
        2026-12-02 09:00 checkin hur-har-du-det
        2026-12-23 09:00 checkin hur-har-du-det
        2027-01-13 09:00 checkin hur-har-du-det
        2027-01-31 09:00 phase arsdagen
        2027-01-31 09:00 release arsdagen
        2027-02-03 09:00 checkin hur-har-du-det
        2027-02-24 09:00 checkin hur-har-du-det
        2027-03-16 09:00 phase vidare
        2027-03-16 09:00 release vidare
        2027-03-17 09:00 checkin hur-har-du-det
    """,
    # A parent who lost their child on 7 January, gets the card 40 days later and never
    # answers. The date puts them in the first weeks and months at once, with that phase's
    # opening text only: what fell due in the first 40 days stays in the library. The rest
    # comes on the days the date gives: the first year on day 104 (21 April), the
    # anniversary phase two weeks before 7 January, the time after it a month after.
    ("efterlevande", "sent"): """
        2026-02-16 14:37 phase forsta-tiden
        2026-02-16 14:37 release de-forsta-veckorna
        2026-03-07 09:00 release stod-fran-andra
        2026-03-08 09:00 checkin hur-har-du-det
        2026-03-22 09:00 release att-soka-hjalp-for-dig-sjalv
        2026-03-29 09:00 checkin hur-har-du-det
        2026-04-19 09:00 checkin hur-har-du-det
        2026-04-21 09:00 phase forsta-aret
        2026-04-21 09:00 release forsta-aret
        2026-04-24 09:00 release nar-ditt-barn-har-dott
        2026-05-10 09:00 checkin hur-har-du-det
        2026-05-31 09:00 checkin hur-har-du-det
        2026-06-21 09:00 checkin hur-har-du-det
        2026-07-05 09:00 release nar-omgivningen-tystnar
        2026-07-10 09:00 checkin ett-halvar
        2026-07-12 09:00 checkin hur-har-du-det
        2026-08-02 09:00 checkin hur-har-du-det
        2026-08-23 09:00 checkin hur-har-du-det
        2026-09-13 09:00 checkin hur-har-du-det
        2026-09-18 09:00 release sorgen-forandras
        2026-10-04 09:00 checkin hur-har-du-det
        2026-10-25 09:00 checkin hur-har-du-det
        2026-11-15 09:00 checkin hur-har-du-det
        2026-12-06 09:00 checkin hur-har-du-det
        2026-12-24 09:00 phase arsdagen
        2026-12-24 09:00 release arsdagen
        2026-12-27 09:00 checkin hur-har-du-det
        2027-01-17 09:00 checkin hur-har-du-det
        2027-02-06 09:00 phase vidare
        2027-02-06 09:00 release vidare
        2027-02-07 09:00 checkin hur-har-du-det
        2027-02-28 09:00 checkin hur-har-du-det
        2027-03-21 09:00 checkin hur-har-du-det
    """,
}


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library(SHIPPED_CONTENT)


@pytest.fixture
def content_dir() -> Path:
    return SHIPPED_CONTENT


# -- timelines ----------------------------------------------------------------------


def local(moment: datetime) -> str:
    return moment.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")


def timeline_lines(events: Iterable[tuple[datetime, str, str]], start_phase: str) -> list[str]:
    """Write events one a line, sorted by time and then by kind and id.

    The opening release names the phase the relative started in. Within one moment the
    order is fixed by kind, not by how the engine happened to record them.
    """
    ordered = sorted(events, key=lambda e: (e[0], KIND_ORDER.index(e[1]), e[2]))
    lines = [f"{local(at)} {kind} {what}" for at, kind, what in ordered]
    if lines:
        lines[0] = lines[0].replace(" release ", f" release {start_phase}: ", 1)
    return lines


def expected_lines(key: tuple[str, str], kinds: Iterable[str] = KIND_ORDER) -> list[str]:
    wanted = set(kinds)
    lines = [line.strip() for line in EXPECTED[key].strip().splitlines()]
    return [line for line in lines if line.split()[2] in wanted]


def walk(library: Library, relative: Relative) -> Journey:
    guide = library.guide(relative.guide)
    state = EnrolmentState.enrol(ACTIVATED, guide.first_phase.id, profile=relative.profile)
    respond = None if relative.silent else relative.respond()
    return simulate(guide, state, UNTIL, respond=respond)


def simulated_lines(library: Library, relative: Relative) -> list[str]:
    journey = walk(library, relative)
    start = library.guide(relative.guide).first_phase.id
    return timeline_lines(((e.at, e.kind, e.id) for e in journey.events), start)


def print_first_year(relative: Relative, events: Iterable[JourneyEvent]) -> None:
    """Print the modules of the first 365 days by day (shown with `pytest -s`)."""
    by_day: dict[int, list[str]] = {}
    for event in events:
        day = (event.at.astimezone(STOCKHOLM).date() - ACTIVATED.date()).days
        if event.kind == "release" and day < 365:
            by_day.setdefault(day, []).append(event.id)
    profile = ", ".join(f"{key}={value}" for key, value in relative.profile.items())
    print(f"\n{relative.guide}, {relative.name} ({profile}), activated {local(ACTIVATED)}:")
    for day, modules in sorted(by_day.items()):
        date = (ACTIVATED + timedelta(days=day)).date().isoformat()
        print(f"  day {day:3}  {date}  {', '.join(modules)}")


# -- the pure walk ------------------------------------------------------------------


@pytest.mark.parametrize("key", list(RELATIVES), ids=["-".join(key) for key in RELATIVES])
def test_a_year_of_each_shipped_guide_releases_at_the_expected_local_times(
    library: Library, key: tuple[str, str]
) -> None:
    relative = RELATIVES[key]
    journey = walk(library, relative)
    print_first_year(relative, journey.events)
    start = library.guide(relative.guide).first_phase.id
    lines = timeline_lines(((e.at, e.kind, e.id) for e in journey.events), start)
    assert lines == expected_lines(key)


@pytest.mark.parametrize("key", list(RELATIVES), ids=["-".join(key) for key in RELATIVES])
def test_the_expected_timelines_keep_the_promises_of_the_journey(key: tuple[str, str]) -> None:
    """Read the expected timelines for the rules they must keep, so a regenerated one can't drift."""
    lines = expected_lines(key, kinds=("release", "checkin"))
    moments = [datetime.fromisoformat(line[:16]) for line in lines]
    opening = moments[0]
    later = [moment for moment in moments if moment != opening]  # more may open at once
    assert opening == ACTIVATED.replace(tzinfo=None), "the opening module comes at activation"
    assert " release " in lines[0]
    assert all(moment.strftime("%H:%M") == "09:00" for moment in later), "at the preferred hour"
    per_day = Counter(moment.date() for moment in set(moments))
    assert max(per_day.values()) == 1, "at most one e-mail a day"
    released = [line.split()[-1] for line in lines if " release " in line]
    assert len(released) == len(set(released)), "no module twice"
    assert later[-1] - opening > timedelta(days=365), "the walk goes on past the first year"


def test_the_two_relatives_of_each_guide_get_different_modules() -> None:
    for guide in ("aterhamtning", "demenslots", "efterlevande"):
        silent = {line.split()[-1] for line in expected_lines((guide, "tyst"), kinds=("release",))}
        answering = {
            line.split()[-1] for line in expected_lines((guide, "svarar"), kinds=("release",))
        }
        assert len(answering ^ silent) >= 3, guide


# -- the same journeys through the database ----------------------------------------


def walk_in_the_database(relative: Relative, full_text: bool = False) -> Enrolment:
    """Enrol the relative with a card and run release passes at each next due moment."""
    tenant = make_tenant()
    (card,) = issue_cards(tenant.unit, 1, guide=relative.guide, now=ACTIVATED)
    enrolment = enrol(
        card, f"{relative.name}@example.se", now=ACTIVATED, profile=dict(relative.profile)
    )
    enrolment.relative.full_text_email = full_text
    db.session.commit()
    library = current_library()
    passes = 0
    while enrolment.next_due_at is not None and enrolment.next_due_at <= UNTIL:
        report = release_due(db.session, library, enrolment.next_due_at)
        assert report.failed == [] and report.enrolments == 1
        passes += 1
        assert passes < 200, "the journey should not need this many passes"
    return enrolment


def database_lines(enrolment: Enrolment) -> list[str]:
    events: list[tuple[datetime, str, str]] = []
    for release in db.session.scalars(select(Release).where(Release.enrolment_id == enrolment.id)):
        events.append((release.released_at, "release", release.module_id))
    for checkin in db.session.scalars(
        select(CheckinInstance).where(CheckinInstance.enrolment_id == enrolment.id)
    ):
        events.append((checkin.opened_at, "checkin", checkin.checkin_id))
    visits = db.session.scalars(
        select(PhaseVisitRow)
        .where(PhaseVisitRow.enrolment_id == enrolment.id)
        .order_by(PhaseVisitRow.started_at, PhaseVisitRow.id)
    ).all()
    for visit in visits[1:]:  # the first visit is where the card started, not a change
        events.append((visit.started_at, "phase", visit.phase))
    return timeline_lines(events, visits[0].phase)


@pytest.mark.parametrize(
    "key",
    [
        ("aterhamtning", "tyst"),
        ("demenslots", "tyst"),
        ("efterlevande", "tyst"),
        ("efterlevande", "sent"),
    ],
    ids="-".join,
)
def test_the_database_path_gives_the_same_year_with_one_notice_per_e_mail(
    app: Flask, key: tuple[str, str]
) -> None:
    enrolment = walk_in_the_database(RELATIVES[key])
    expected = expected_lines(key, kinds=("phase", "release", "checkin"))
    assert database_lines(enrolment) == expected

    notices = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "notice").order_by(OutboxMessage.id)
    ).all()
    moments = sorted({line[:16] for line in expected if " phase " not in line})
    assert [local(n.next_attempt_at) for n in notices] == moments[1:]  # the welcome has the first
    assert enrolment.next_due_at is not None and enrolment.next_due_at > UNTIL
    # Every release points at the version of the text that was released.
    for release in enrolment.releases:
        version = db.session.get(ModuleVersion, release.module_version_id)
        assert version is not None and version.module_id == release.module_id


def test_the_second_anniversary_comes_two_weeks_before_it_by_the_date(library: Library) -> None:
    relative = RELATIVES[("efterlevande", "sent")]  # the death was on 7 January 2026
    guide = library.guide("efterlevande")
    state = EnrolmentState.enrol(ACTIVATED, guide.first_phase.id, profile=relative.profile)
    journey = simulate(guide, state, ACTIVATED + timedelta(days=800))
    released = {e.id: local(e.at) for e in journey.events if e.kind == "release"}
    assert released["arsdagen"] == "2026-12-24 09:00"
    assert released["andra-arsdagen"] == "2027-12-24 09:00"
    skipped = EnrolmentState.enrol(ACTIVATED, guide.first_phase.id, profile={})
    without = simulate(guide, skipped, ACTIVATED + timedelta(days=800))
    released = {e.id: local(e.at) for e in without.events if e.kind == "release"}
    assert released["andra-arsdagen"] == "2028-02-02 09:00"  # 716 days after the card


@pytest.mark.parametrize(
    ("guide", "full_text_goes_out"), [("demenslots", True), ("aterhamtning", False)]
)
def test_a_relative_who_chose_full_text_gets_it_only_from_guides_that_are_not_sensitive(
    app: Flask, guide: str, full_text_goes_out: bool
) -> None:
    relative = RELATIVES[(guide, "tyst")]
    walk_in_the_database(relative, full_text=True)
    deliver_outbox(db.session, UNTIL)
    mails = db.session.scalars(
        select(CapturedMail).where(CapturedMail.subject == "Nytt avsnitt i din guide")
    ).all()
    assert mails
    release = db.session.scalar(
        select(Release).where(Release.module_id != "valkommen").order_by(Release.released_at)
    )
    assert release is not None
    texts = release.version.texts["sv"]
    body_sentence = next(
        line[:50]
        for line in texts["body"].splitlines()
        if line and not any(mark in line for mark in "#*_[{|>-")
    )
    mail = next(m for m in mails if texts["title"] in m.text_body)
    assert texts["summary"] in mail.text_body
    assert (body_sentence in mail.text_body) is full_text_goes_out
    assert mail.subject == "Nytt avsnitt i din guide"


if __name__ == "__main__":  # print the current timelines, to review and paste above
    shipped = load_library(SHIPPED_CONTENT)
    for key, relative in RELATIVES.items():
        print(f'    {key!r}: """')
        for line in simulated_lines(shipped, relative):
            print(f"        {line}")
        print('    """,')
