"""E-mail, from queueing to SMTP: the outbox, what each mail says, rendering, sending, problems.

`outbox` is the bottom of the room: services queue messages there (it imports only
the models). `content` and `render` turn a row into a mail and may use services
(login links, local facts); `delivery` claims, renders, sends or captures and marks;
`sending` sends a rendered batch and marks it (it reads no app, so it may run in a
process of its own); `smtp` talks to the server; `problems` and `unsubscribe` serve the admin page and
the mail footer. Nothing here imports guide.web, guide.api, guide.cli or scheduler.jobs.
"""
