"""Email beyond sending: the team's own mailbox read over IMAP, what a message is (a reply, a
bounce, an automatic reply, our own sent mail), what the creator actually wrote, and whether the
sender is authenticated.

| module | what it does |
|---|---|
| `replytext` | the creator's own words, split from quotes and signatures (mail-parser-reply, inscriptis) |
| `kinds` | delivery status notifications (RFC 3464) and automatic replies (RFC 3834) |
| `trust` | DKIM aligned with From (dkimpy) or a trusted gateway's Authentication-Results (authres) |
| `addresses` | per-request reply addresses (plus-addressing) and the SMTP/IMAP servers of an account |
| `fetch` | the django-q2 schedule's work: read new mail by UID, feed it to the inbound pipeline |
| `bounces` | a bounce fails its outbox row; a hard bounce suppresses the address |
| `threads` | a follow-up email answers the previous step's message |
"""
