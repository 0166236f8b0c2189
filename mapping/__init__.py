"""Pure translations shared by the VTN and the VENs: no network, no database, no clock reads."""
