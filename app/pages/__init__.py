"""Page scripts run by st.navigation (streamlit_app.py)."""
