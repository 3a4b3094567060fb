"""A test client for the app with tokens by user name."""

from __future__ import annotations

from dataclasses import dataclass

import httpx


@dataclass
class Api:
    client: httpx.AsyncClient
    tokens: dict[str, str]

    def as_(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}
