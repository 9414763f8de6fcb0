"""The Gemini models both the Gemini API and Vertex AI serve: the catalogue, and deterministic answers in
each wire format. No routes here: each service authorizes the call, then asks these modules for the answer."""
