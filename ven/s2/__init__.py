"""S2 dispatch (EN 50491-12-2): the VEN's CEM, which each site device's Resource Manager connects to over WebSocket.

pairing.py: which device a pairing token names; limits.py: the per-connection rate bound; codec.py: S2 messages in
and out (s2-python's models); session.py: one RM connection (handshake, control type, descriptions, answers);
cem.py: the server, each device's plan and whether it follows it. The pure part (control types, the RM's
description as device parameters, a schedule as instructions) is mapping/s2.py. docs/ven.md, "S2 dispatch".
"""
