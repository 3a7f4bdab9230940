"""The settlement book 费用结算: which payments the facts of the workflow make due (pure, no I/O).

Facts arrive from four producer streams in any interleaving; a fact whose partner has not
arrived yet (a service record before its approval) waits. Each payment is a ``Posting`` with a
deterministic id and key, so a replay of the same facts gives byte-identical postings.

Where several facts could make the same payment due (two surveys of one person in one year), the
first to arrive pays and the key stops the second. A *correction* (a survey that supersedes
another, a second approval of an application, a second record of a delivery, an institution
change) never rewrites a posting: the book settles the subject again under the corrected facts
and posts the difference as adjustments dated the day the correction arrived (ADR 0006).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from types import MappingProxyType

from kernel.domain.clock import cn_date
from kernel.domain.institutions import InstitutionMove, institution_in_charge
from kernel.reference.jurisdiction import DEFAULT_REFERENCE
from services.settlement.book.adjustments import adjustments, signed_amount
from services.settlement.book.book_state import (
    FeeFacts,
    Group,
    OnceOnlyHolders,
    Payments,
    PolicyCache,
    Pool,
    SubsidyFacts,
    SupportServiceHolders,
)
from services.settlement.book.dues import (
    Cumulated,
    Due,
    Match,
    Posting,
    Priced,
    Reason,
    Unsettled,
    assessment_fee,
    management_fee,
    mismatch,
    posting,
    service_inputs,
    service_institution_account,
    survey_fee,
)
from services.settlement.book.eligibility import Applicant
from services.settlement.book.facts import (
    ApplicationDescribed,
    ApplicationRefused,
    Fact,
    InstitutionChanged,
    ItemsApproved,
    PersonAssessed,
    PersonSurveyed,
    ServiceRecorded,
    arrived_on,
)
from services.settlement.book.names import item_name, named
from services.settlement.book.policy import Policy, PolicySet, Unstated
from services.settlement.book.pricing import Period, applicant_of, price_fee, price_subsidy
from services.settlement.book.standards import split_fen
from services.settlement.book.supplements import price_supplement, supplement_key

DEPLOYMENT_JURISDICTION = DEFAULT_REFERENCE
"""A book built without a jurisdiction (in tests) settles the default pack's; the service names its own
(the deployment's pack, services/settlement/deployment.py): facts are priced by its policies only."""

SUPPORT_SERVICE = "support_service"
DISTRICT = "district"

Correction = PersonSurveyed | ItemsApproved | ServiceRecorded | InstitutionChanged


class SettlementBook:
    """Feed it facts in any order; it returns the postings each fact newly makes due.

    Every payment is priced by the policy of ``jurisdiction`` in force on its business date, so
    replaying 2023 facts pays 2023 rates whatever policy is in force today.
    """

    def __init__(
        self,
        policies: PolicySet,
        jurisdiction: str = DEPLOYMENT_JURISDICTION,
        institutions: Mapping[str, str] = MappingProxyType({}),
    ) -> None:
        self._policies = policies
        self._jurisdiction = jurisdiction
        self._institutions = institutions  # id -> name, for the reasons of unsettled records
        self._seen: set[str] = set()
        self._payments = Payments()
        self._fees = FeeFacts()
        self._subsidies = SubsidyFacts()
        self._support = SupportServiceHolders()
        self._once = OnceOnlyHolders()
        self._unsettled: dict[str, Unsettled] = {}
        self._cache = PolicyCache()
        self._supplements_of = {
            code: frozenset(item.supplements)
            for policy in policies
            if policy.jurisdiction == jurisdiction
            for code, item in policy.items.items()
            if item.supplements
        }  # item -> its supplements' codes, in any of the jurisdiction's policies
        self._allowances_of: dict[str, frozenset[str]] = {}  # training item -> the items paid for its months
        for policy in policies:
            for code, item in policy.items.items():
                if policy.jurisdiction == jurisdiction and item.paid_for_months_of is not None:
                    known = self._allowances_of.get(item.paid_for_months_of, frozenset())
                    self._allowances_of[item.paid_for_months_of] = known | {code}
        self._on_fact: dict[type, Callable[..., list[Posting]]] = {
            PersonSurveyed: self._on_survey,
            PersonAssessed: self._on_assessment,
            ItemsApproved: self._on_approval,
            ApplicationRefused: self._on_refusal,
            ServiceRecorded: self._on_service,
            InstitutionChanged: self._on_institution_change,
            ApplicationDescribed: self._on_description,
        }

    def feed(self, fact: Fact) -> list[Posting]:
        """Take in one fact (a second feed of the same event is ignored)."""
        if fact.event_id in self._seen:
            return []
        self._seen.add(fact.event_id)
        on_fact = self._on_fact.get(type(fact))
        if on_fact is None:
            raise TypeError(f"not a settlement fact: {fact!r}")
        postings: list[Posting] = on_fact(fact)
        if self._allowances_of and isinstance(fact, ServiceRecorded | ItemsApproved | InstitutionChanged):
            postings += self._allowances_after(fact)
        return postings

    def unsettled(self) -> list[Unsettled]:
        """Facts waiting for a partner or refused by a rule, by subject."""
        return [self._unsettled[subject] for subject in sorted(self._unsettled)]

    # -- survey and assessment fees -------------------------------------------------------------
    def _on_survey(self, survey: PersonSurveyed) -> list[Posting]:
        slots = self._fees.surveys.setdefault(survey.person, [])
        slot = self._fees.survey_slot.get(survey.supersedes) if survey.supersedes is not None else None
        if slot is not None and slot[0] == survey.person:
            # The correction takes the place of the survey it supersedes (first in the year still pays).
            replaced = slots[slot[1]]
            slots[slot[1]] = survey
            self._fees.survey_slot[survey.event_id] = slot
            years = sorted({replaced.year, survey.year})
            fees = [p for year in years for p in self._survey_year(survey.person, year, survey)]
            return fees + self._settle_groups(self._subsidies.groups_of_person.get(survey.person, []), survey)
        self._fees.survey_slot[survey.event_id] = (survey.person, len(slots))
        slots.append(survey)
        fees = self._survey_year(survey.person, survey.year, None)
        # What the survey recorded (age, sub-type, hardship) may decide the tier of a record that waited.
        return fees + self._settle_groups(self._subsidies.groups_of_person.get(survey.person, []), None)

    def _survey_year(self, person: str, year: int, cause: Correction | None) -> list[Posting]:
        slots = self._fees.surveys.get(person, [])
        first = next((survey for survey in slots if survey.year == year), None)

        def price() -> Priced | None:
            return None if first is None else self._price_fee(survey_fee(first))

        postings = self._settle(f"survey_fee:{person}:{year}", price, cause)
        return postings + self._management(person, year, cause)

    def _management(self, person: str, year: int, cause: Correction | None) -> list[Posting]:
        key = f"management_fee:{person}:{year}"
        if (person, year) not in self._fees.first_assessment and key not in self._payments.history:
            return []  # nothing due before the assessment, and nothing paid to adjust

        def price() -> Priced | None:
            slots = self._fees.surveys.get(person, [])
            survey = next((s for s in slots if s.year == year and s.has_needs), None)
            assessment = self._fees.first_assessment.get((person, year))
            if survey is None or assessment is None:
                return None
            return self._price_fee(management_fee(survey, assessment))

        return self._settle(key, price, cause)

    def _on_assessment(self, assessment: PersonAssessed) -> list[Posting]:
        person_year = (assessment.person, assessment.year)
        self._fees.first_assessment.setdefault(person_year, assessment)
        postings = []
        if assessment.level == DISTRICT:
            key = f"assessment_fee:{assessment.person}:{assessment.year}"
            postings += self._settle(key, lambda: self._price_fee(assessment_fee(assessment)), None)
        return postings + self._management(assessment.person, assessment.year, None)

    def _price_fee(self, due: Due) -> Priced | None:
        person = str(due.inputs.get("person_id"))
        policy = self._policy_on(due.business_date, due.key, due.source_event_ids, person)
        if policy is None:
            return None
        priced = price_fee(due, policy)
        if isinstance(priced, Reason):
            self._note(due.key, priced, *due.source_event_ids, person=person)
            return None
        return priced

    # -- service subsidies ----------------------------------------------------------------------
    def _on_approval(self, approval: ItemsApproved) -> list[Posting]:
        corrects = approval.application in self._subsidies.approvals
        self._subsidies.approvals[approval.application] = approval
        groups = self._subsidies.groups_of.get(approval.application, [])
        return self._settle_groups(groups, approval if corrects else None)

    def _on_refusal(self, refusal: ApplicationRefused) -> list[Posting]:
        self._subsidies.refusals.setdefault(refusal.application, refusal)
        return self._settle_groups(self._subsidies.groups_of.get(refusal.application, []), None)

    def _on_description(self, description: ApplicationDescribed) -> list[Posting]:
        """The form's description of the applicant may decide the tier of a record that waited for it."""
        self._subsidies.descriptions[description.application] = description
        return self._settle_groups(self._subsidies.groups_of.get(description.application, []), None)

    def _on_institution_change(self, change: InstitutionChanged) -> list[Posting]:
        group = (change.application, change.item)
        changes = self._subsidies.changes.setdefault(group, [])
        changes.append(change)
        changes.sort(key=lambda known: known.approved_on)  # stable: ties keep arrival order
        return self._settle_groups([group], change)

    def _on_service(self, service: ServiceRecorded) -> list[Posting]:
        earlier = self._subsidies.records.get(service.delivery)
        self._subsidies.records[service.delivery] = service
        group = (service.application, service.item)
        if earlier is None:
            self._join(group, service.delivery)
            return self._settle_groups([group], None)
        old_group, old_pool = (earlier.application, earlier.item), _pool_of(earlier)
        if (old_group, old_pool) != (group, _pool_of(service)):
            self._subsidies.groups[old_group].remove(service.delivery)
            self._subsidies.pools[old_pool].remove(service.delivery)
            self._join(group, service.delivery)
        return self._settle_pools([old_pool, *self._pools_of([old_group, group])], service)

    def _join(self, group: Group, delivery: str) -> None:
        members = self._subsidies.groups.setdefault(group, [])
        service = self._subsidies.records[delivery]
        if not members:
            self._subsidies.groups_of.setdefault(group[0], []).append(group)
            self._subsidies.groups_of_person.setdefault(service.person, []).append(group)
        members.append(delivery)
        self._subsidies.pools.setdefault(_pool_of(service), []).append(delivery)

    def _settle_groups(self, groups: Iterable[Group], cause: Correction | None) -> list[Posting]:
        return self._settle_pools(self._pools_of(groups), cause)

    def _pools_of(self, groups: Iterable[Group]) -> list[Pool]:
        """The pools the records of these groups are in: settling a group settles the person's other
        applications for the item that year too, as they share its yearly cap."""
        records, members = self._subsidies.records, self._subsidies.groups
        pools = []
        for group in groups:
            for delivery in members.get(group, ()):
                service = records[delivery]
                pools.append((service.person, service.item, service.year))  # _pool_of, inlined: hot
        return pools

    def _settle_pools(self, pools: Iterable[Pool], cause: Correction | None) -> list[Posting]:
        postings = []
        for pool in dict.fromkeys(pools):
            postings += self._settle_pool(pool, cause)
        return postings

    def _settle_pool(self, pool: Pool, cause: Correction | None) -> list[Posting]:
        """Settle each record of a person's item in a year in turn: the records of one application's item
        share the item's cap, and all of them share a cap per person per year 每人每年."""
        deliveries = self._subsidies.pools.get(pool, [])
        # Records already paid keep their turn at the cap; the others follow in arrival order.
        paid_turn = self._payments.turn
        unpaid = len(paid_turn)
        turn = {d: paid_turn.get(f"service_subsidy:{d}", unpaid + n) for n, d in enumerate(deliveries)}
        records, approvals = self._subsidies.records, self._subsidies.approvals
        postings: list[Posting] = []
        already: dict[str, int] = {}  # by application
        counted: dict[str, list[ServiceRecorded]] = {}  # the records that count, for the months they cover
        year_paid = 0
        for delivery in sorted(deliveries, key=turn.__getitem__):
            service = records[delivery]
            application = service.application
            approval = approvals.get(application)
            if approval is None:
                self._wait(service)
                continue
            before = already.get(application, 0)
            paid, amount = self._settle_service(
                service,
                approval,
                cause,
                Cumulated(before, year_paid),
                counted.setdefault(application, []),
            )
            postings += paid
            already[application] = before + amount
            year_paid += amount
        if pool[1] in self._supplements_of:
            for application in dict.fromkeys(records[delivery].application for delivery in deliveries):
                postings += self._supplements(application, pool[1], counted.get(application, []), cause)
        return postings

    def _supplements(
        self, application: str, item: str, counted: list[ServiceRecorded], cause: Correction | None
    ) -> list[Posting]:
        """What is due beside the item (低保人员营养费) once the application's first record counts; withdrawn
        when no record counts any more."""
        approval = self._subsidies.approvals.get(application)
        match = None if not counted or approval is None else self._match(counted[0], approval)
        description = self._subsidies.descriptions.get(application)
        postings = []
        for code in sorted(self._supplements_of[item]):
            key = supplement_key(code, application)

            def price(code: str = code, key: str = key) -> Priced | None:
                priced = price_supplement(code, match, description)
                if isinstance(priced, Reason):
                    sources = () if match is None else match.sources
                    self._note(key, priced, *sources, person=counted[0].person)
                    return None
                if priced is None:
                    self._unsettled.pop(key, None)
                return priced

            postings += self._settle(key, price, cause)
        return postings

    def _wait(self, service: ServiceRecorded) -> None:
        refusal = self._subsidies.refusals.get(service.application)
        item = item_name(service.item)
        if refusal is not None:
            reason = Reason(
                "application_refused", f"「{item}」所依据的补助申请未获批准（区残联办审批不同意）"
            )
            self._note(service.delivery, reason, service.event_id, refusal.event_id, person=service.person)
        else:
            reason = Reason("awaiting_approval", f"「{item}」已有服务记录，等待其补助申请的审批结果")
            self._note(service.delivery, reason, service.event_id, person=service.person)

    def _settle_service(
        self,
        service: ServiceRecorded,
        approval: ItemsApproved,
        cause: Correction | None,
        already: Cumulated,
        counted: list[ServiceRecorded],
    ) -> tuple[list[Posting], int]:
        key = f"service_subsidy:{service.delivery}"
        if cause is None and (key in self._payments.history or self._support.key_of.get(service.delivery)):
            counted.append(service)
            return [], self._payments.paid.get(key, 0)  # settled before, and nothing it rests on changed
        match = self._match(service, approval)
        if match is None:
            return self._withdraw(service, cause) + self._settle(key, lambda: None, cause), 0
        counted.append(service)
        if match.policy.items[service.item].kind == SUPPORT_SERVICE:
            return self._settle(key, lambda: None, cause) + self._support_service(match, cause), 0
        if self._paid_once_elsewhere(match):
            return self._settle(key, lambda: None, cause), 0
        priced = self._subsidy(match, already, counted)
        self._hold_once(match, priced)
        return self._settle(key, lambda: priced, cause), 0 if priced is None else priced.amount_fen

    def _paid_once_elsewhere(self, match: Match) -> bool:
        """一次性补贴: another record of the person already holds the item's one payment (reason noted)."""
        service = match.service
        if not match.policy.items[service.item].once_only():
            return False
        holder = self._once.owner.get((service.person, service.item))
        if holder is None or holder == service.delivery:
            return False
        paid = self._subsidies.records[holder]
        text = (
            f"「{item_name(service.item)}」是一次性补贴，已按 {cn_date(paid.signed_on)} 签字的服务记录"
            f"（{named(self._institutions, paid.institution)}）支付，不再支付"
        )
        self._note(service.delivery, Reason("paid_once", text), *match.sources, person=service.person)
        return True

    def _hold_once(self, match: Match, priced: Priced | None) -> None:
        service = match.service
        if not match.policy.items[service.item].once_only():
            return
        if priced is not None and priced.amount_fen > 0:
            self._once.owner[service.person, service.item] = service.delivery
        elif self._once.owner.get((service.person, service.item)) == service.delivery:
            del self._once.owner[service.person, service.item]  # a corrected record no longer holds it

    def _match(self, service: ServiceRecorded, approval: ItemsApproved) -> Match | None:
        """The record matched with its approval and the policy in force, or None (with the reason noted)."""
        institution, changes = self._institution_on(service, approval)
        sources = (approval.event_id, service.event_id, *changes)
        reason = mismatch(service, approval, institution, self._institutions)
        if reason is not None:
            self._note(service.delivery, reason, *sources, person=service.person)
            return None
        day = max(service.signed_on, approval.approved_on)  # the payment is due once both are there
        # The policy is the one in force when the service was delivered: on the first day of its service
        # period (a record logged without one: the day it was signed), as for the applicant and the
        # institution in charge. Anyang's 2021 plan pays a training of 2021-12..2022-01 signed in 2022.
        delivered = service.period_start or service.signed_on
        policy = self._policy_on(delivered, service.delivery, sources, service.person, "服务周期首日")
        if policy is None:
            return None
        if policy.item(service.item) is None:
            text = f"「{item_name(service.item)}」不在《{policy.title}》的服务目录中"
            self._note(
                service.delivery, Reason("item_not_in_catalogue", text), *sources, person=service.person
            )
            return None
        self._unsettled.pop(service.delivery, None)
        return Match(service, approval, policy, day, sources, self._applicant(service))

    def _applicant(self, service: ServiceRecorded) -> Applicant | None:
        """The person on the first day of the record's service period, from the form and the year's survey."""
        description = self._subsidies.descriptions.get(service.application)
        surveys = self._fees.surveys.get(service.person, [])
        survey = next((known for known in surveys if known.year == service.year), None)
        return applicant_of(description, survey, service.period_start or service.signed_on)

    def _institution_on(
        self, service: ServiceRecorded, approval: ItemsApproved
    ) -> tuple[str | None, tuple[str, ...]]:
        """Who was in charge of the item over the record's service period (the rule delivery applies too),
        and the changes that decided it; a record logged without its period is judged by its signature."""
        approved = approval.item(service.item)
        if approved is None or approved.institution is None:
            return None, ()
        changes = self._subsidies.changes.get((service.application, service.item), [])
        if not changes:
            return approved.institution, ()
        moves = [InstitutionMove(c.from_institution, c.to_institution, c.approved_on) for c in changes]
        first_day = service.period_start or service.signed_on
        institution, applied = institution_in_charge(approved.institution, moves, first_day)
        return institution, tuple(changes[index].event_id for index in applied)

    def _support_service(self, match: Match, cause: Correction | None) -> list[Posting]:
        service, policy = match.service, match.policy
        # 每人每年 200 元: one payment per person and year, however many support-service items
        # (one per disability category) the person receives; a second one is shown as unsettled.
        key = f"support_service:{service.person}:{service.year}"
        owner = self._support.owner.get(key)
        if owner is not None and owner != service.delivery:
            paid_item = self._subsidies.records[owner].item
            if paid_item != service.item:
                text = f"本年度已为「{item_name(paid_item)}」支付支持性服务补贴（每人每年 200 元）"
                reason = Reason("support_service_paid", text)
                self._note(service.delivery, reason, *match.sources, person=service.person)
            return []
        fee = policy.fees.support_service_fen
        if isinstance(fee, Unstated):
            reason = Reason("fee_unstated", f"《{policy.title}》未规定支持性服务补贴标准：{fee.unstated}")
            self._note(service.delivery, reason, *match.sources, person=service.person)
            return self._withdraw(service, cause)
        self._support.owner[key] = service.delivery
        self._support.key_of[service.delivery] = key
        inputs = {**service_inputs(service), "fee_fen": fee}
        credit = service_institution_account(service.institution)
        due = Due("support_service", key, credit, match.day, match.sources, inputs)
        return self._settle(key, lambda: Priced(due, policy, fee), cause)

    def _withdraw(self, service: ServiceRecorded, cause: Correction | None) -> list[Posting]:
        """A record that no longer counts gives up the support-service payment it held."""
        key = self._support.key_of.pop(service.delivery, None)
        if key is None:
            return []
        del self._support.owner[key]
        return self._settle(key, lambda: None, cause)

    def _subsidy(self, match: Match, already: Cumulated, counted: list[ServiceRecorded]) -> Priced | None:
        periods = [(service.period_start, service.period_end) for service in counted]
        service = match.service
        trained = match.policy.items[service.item].paid_for_months_of
        training = None if trained is None else self._training_periods(service.person, trained)
        # 每例: each record of the item is one case (a cataract: one eye operated), up to the eyes the form
        # asks for, so two eyes pay alike on one form or two; a third record of a two-eye form is no new case.
        description = self._subsidies.descriptions.get(service.application)
        eyes = None if description is None else description.eyes(service.item)
        cases = len(counted) if eyes is None else min(len(counted), eyes)
        priced = price_subsidy(match, already, periods, training, cases)
        if isinstance(priced, Reason):
            self._note(match.service.delivery, priced, *match.sources, person=match.service.person)
            return None
        return priced

    # -- allowances paid for the months of training ---------------------------------------------
    def _allowances_after(self, fact: ServiceRecorded | ItemsApproved | InstitutionChanged) -> list[Posting]:
        """A fact about a person's training may change the months their allowance is paid for: settle the
        allowance again, any difference dated the day the fact arrived."""
        approval = self._subsidies.approvals.get(fact.application)
        person = fact.person if isinstance(fact, ServiceRecorded | ItemsApproved) else None
        person = person or (approval.person if approval is not None else None)
        groups = self._subsidies.groups_of_person.get(person or "", [])
        if not any(item in self._allowances_of for _, item in groups):
            return []  # no training of the person, or the fact is not about one
        allowances = {code for _, item in groups for code in self._allowances_of.get(item, ())}
        return self._settle_groups([group for group in groups if group[1] in allowances], fact)

    def _training_periods(self, person: str, training: str) -> list[Period]:
        """The service periods of the person's training that counts: signed, of the person's approved item,
        at the institution in charge (the rules a training record is paid by)."""
        periods = []
        for group in self._subsidies.groups_of_person.get(person, []):
            approval = self._subsidies.approvals.get(group[0])
            if group[1] != training or approval is None:
                continue
            for delivery in self._subsidies.groups[group]:
                service = self._subsidies.records[delivery]
                institution, _ = self._institution_on(service, approval)
                if mismatch(service, approval, institution) is None:
                    periods.append((service.period_start, service.period_end))
        return periods

    # -- shared ---------------------------------------------------------------------------------
    def _settle(
        self, key: str, price: Callable[[], Priced | None], cause: Correction | None
    ) -> list[Posting]:
        """Post a subject for the first time, or (after a correction) post what changed in it."""
        history = self._payments.history.get(key)
        if history and cause is None:
            return []  # the first fact to make it due paid it
        priced = price()
        if priced is not None:
            self._unsettled.pop(key, None)
        if not history:
            if priced is None:
                return []
            postings = self._lines(priced)
            self._payments.turn[key] = len(self._payments.turn)
            self._payments.history[key] = postings
            self._payments.paid[key] = priced.amount_fen  # a first payment: its lines add up to the amount
            return postings
        desired = [] if priced is None else self._lines(priced)
        assert cause is not None
        return self._record(key, adjustments(key, history, desired, cause.event_id, arrived_on(cause)))

    def _record(self, key: str, postings: list[Posting]) -> list[Posting]:
        """Keep adjustments in the subject's history (after its first payment)."""
        self._payments.history[key] = self._payments.history[key] + postings
        self._payments.paid[key] += sum(signed_amount(p) for p in postings)
        return postings

    def _policy_on(
        self, day: date, subject: str, sources: tuple[str, ...], person: str | None = None, what: str = ""
    ) -> Policy | None:
        try:
            policy = self._cache.in_force[day]
        except KeyError:  # the policy set never changes, so the policy in force on a day is cached
            policy = self._cache.in_force[day] = self._policies.in_force(self._jurisdiction, day)
        if policy is None:
            on = f"{what}（{cn_date(day)}）" if what else cn_date(day)
            reason = Reason("no_policy", f"{on}没有施行中的结算政策")
            self._note(subject, reason, *sources, person=person)
        return policy

    def _lines(self, priced: Priced) -> list[Posting]:
        """The payment, one posting per funding source of the policy's split (to the fen)."""
        due, policy, amount_fen = priced.due, priced.policy, priced.amount_fen
        try:
            shares = self._cache.shares[policy.id, due.area]
        except KeyError:
            shares = self._cache.shares[policy.id, due.area] = policy.funding.split_for(due.area).shares
        if len(shares) == 1:
            return [posting(due, policy.funding.account_of(next(iter(shares))), amount_fen, policy)]
        postings = []
        for source, part in split_fen(amount_fen, shares).items():
            if part == 0:
                continue
            inputs = {
                **due.inputs,
                "total_fen": amount_fen,
                "funding_source": source,
                "share_percent": str(shares[source]),
            }
            share_due = due._replace(key=f"{due.key}|{source}", inputs=inputs)
            postings.append(posting(share_due, policy.funding.account_of(source), part, policy))
        return postings

    def _note(self, subject: str, reason: Reason, *sources: str, person: str | None = None) -> None:
        self._unsettled[subject] = Unsettled(subject, reason.text, tuple(sources), reason.code, person)


def _pool_of(service: ServiceRecorded) -> Pool:
    """A record's pool: its person, item and 服务年度 (the year its application is for, which a record must
    match to count): the year of a cap 每人每年, as the seeds' 「全年」 is the programme's year."""
    return (service.person, service.item, service.year)
