"""Fakes and servers that tests and benchmarks share: real processes on loopback (a
llama.cpp server), and scripted servers that speak the OpenAI and Anthropic wire
formats for what cannot run here (a hosted API's own servers)."""
