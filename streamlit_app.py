"""shangquan's Streamlit app: ``streamlit run streamlit_app.py``.

Two pages: the planner's map (default; a build's coverage, gaps, siting, what-if and
briefing export, or the shipped districts and census when there is no build yet) and
"explore an extract" (the walk network and POIs of any OSM file). The language switch in
the sidebar applies to both. Builds are looked for in ``builds/`` (or ``$SHANGQUAN_BUILDS``,
or ``?builds=PATH``; the sidebar changes it).
"""

from __future__ import annotations

import streamlit as st

from app.i18n import t

st.set_page_config(page_title="shangquan 商圈", layout="wide")
lang = (
    "en"
    if st.sidebar.radio(t("lang", "zh"), ["中文", "English"], key="lang", horizontal=True)
    == "English"
    else "zh"
)
st.session_state["_lang"] = lang
page = st.navigation(
    [
        st.Page(
            "app/pages/planner.py", title=t("page_planner", lang), url_path="planner", default=True
        ),
        st.Page("app/pages/explore.py", title=t("page_explore", lang), url_path="explore"),
    ]
)
page.run()
