"""Bearer-token machinery for the VTN's JSON APIs (DSO API today, aggregator API later):
OAuth2 client-credentials clients with hashed secrets, signed access tokens, scope checks."""
