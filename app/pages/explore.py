"""Page script: explore an OSM extract (see app/explore.py)."""

import streamlit as st

from app.explore import main

main(st.session_state.get("_lang", "zh"))
