"""Page script: the planner's map (see app/planner.py)."""

import streamlit as st

from app.planner import main

main(st.session_state.get("_lang", "zh"))
