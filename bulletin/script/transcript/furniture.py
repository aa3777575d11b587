"""Page furniture: menus, dates, photo credits, share buttons, cookie notices, copyright
lines, and the "Related News" block after which the article is over. All of it is dropped."""

from __future__ import annotations

import re

# Whole lines that are page furniture (compared case-folded, apostrophes straightened).
FURNITURE_LINES = frozenset(
    """
menu content|go top|top|menu|go to top|back to top|skip to content|skip navigation|search|close
|home|login|log in|sign in|sign up|subscribe|list|go to list|back to list|prev|previous|next
|more|view more|listen|listen again|play|pause|stop|download|font size|print|share|scrap
|kbs world|kbs world radio|kbs world radio news|kbs|news|advertisement|ad|sponsored|language
|english|korean|a+|a-|url copy|copy url|copy link|link copy|tweet|headlines|news headlines
""".replace("\n", "").split("|")
)


# Lines after which the article is over: what follows is links to other articles.
END_LINES = frozenset(
    """
related news|related articles|editor's pick|editors' pick|most viewed|most read|latest news
|popular news|top news|more news|other news|recommended|you may also like|hot issues|hot issue
""".replace("\n", "").split("|")
)

SHARE_WORDS = frozenset(
    "share facebook twitter x kakaotalk kakaostory kakao line band naver print email e-mail "
    "url copy link scrap tweet whatsapp telegram pinterest linkedin reddit a+ a- font size".split()
)

FURNITURE_PATTERNS = [
    re.compile(r"^(written|posted|published|updated|edited|input|date)\s*[:：]", re.I),
    re.compile(r"^(photo|photos|image|graphic|video|caption)\s*[:：]", re.I),
    re.compile(r"^(©|ⓒ|\(c\)\s|copyright\b)", re.I),
    re.compile(r"all rights reserved|unauthorized reproduction|redistribution prohibited", re.I),
    re.compile(r"\bcookies?\b.*\b(consent|policy|accept|agree|technolog)", re.I),
    re.compile(r"^this (web)?site uses", re.I),
]


def is_furniture(folded: str) -> bool:
    if folded in FURNITURE_LINES or any(p.search(folded) for p in FURNITURE_PATTERNS):
        return True
    # A row of share buttons: "Facebook Twitter KakaoStory", "Share | Print".
    words = [w for w in re.split(r"[\s|/·•,]+", folded) if w]
    return bool(words) and len(words) <= 10 and all(w in SHARE_WORDS for w in words)
