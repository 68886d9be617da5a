"""The organisation store on PostgreSQL (docs/store.md; contract section 6).

One store per organisation holds the signed records of every professional's log -- the same DSSE
envelope lines as the file log, byte for byte, each log keeping its log id and chain -- plus one
organisation-wide append-only sequence in commit order, and signed organisation checkpoints over
that sequence. Modules (each imports psycopg itself; this package does not, so that asking
``audit.store.url.is_store_url`` costs nothing):

- ``url``: ``is_store_url(text)``, ``redact(url)``;
- ``db``: ``connect(url)``, error translation to reason codes, ``store_info``;
- ``schema``: the DDL and ``init_store(url) -> InitResult`` (``deelwijzer store init URL``);
- ``push``: ``push_log(log, url, trust=None) -> PushResult`` (``deelwijzer audit push LOG --to URL``);
- ``outbox``: ``Outbox(local_log, store_url)``: record locally first (fsync), then push; never
  raises on a database outage; ``.waiting()`` counts what has not reached the store;
- ``verify``: ``verify_store(url, trust, ...) -> StoreVerifyReport`` (``audit verify URL``);
- ``orgcheckpoint``: organisation tree heads, their consistency and inclusion proofs;
- ``report``: ``audit report LOG_OR_URL``, counted from verified records only;
- ``tempcluster``: a throw-away PostgreSQL cluster for tests, the benchmark and trying it out.
"""
