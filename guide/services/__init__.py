"""The product's operations: accounts, cards, enrolment, the journey, check-ins, needs, follow-up.

Each service is plain Python that takes a SQLAlchemy session, `now` and whatever else
it needs as arguments, so tests call it directly. A service may import the pure core
(guide.content, scheduler.planner, scheduler.rules, activation_codes.codes), the
models, the outbox (guide.mail.outbox) and other services; never guide.web,
guide.api, guide.cli or scheduler.jobs, which call it. It raises GuideError
subclasses whose sentences tell a person what to do; it flushes, and the caller
(a view, a command, a job) commits.
"""
