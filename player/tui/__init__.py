"""The Textual TUI: a live player session you watch and steer (``abrlab tui``).

Modules: ``app`` (the App and its options), ``screens`` (session, start form, error),
``session_pane`` (one session's widgets), one module per widget (``buffer_chart``,
``rung_chart``, ``throughput_chart``, ``ladder``, ``kpis``, ``event_log``) on the
shared ``chart``/``series`` machinery, ``source`` (where a session comes from),
``pacer`` (wall clock -> session clock), ``scores`` (running KPIs/QoE), ``shots``.
"""
