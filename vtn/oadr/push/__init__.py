"""2.0b push mode at the VTN: VENs registered with httpPullModel false get their messages POSTed."""
