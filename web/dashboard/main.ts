// The operator's console at /dashboard: one <dashboard-app>, styled by one stylesheet.
import "./styles.css";
import "./components/dashboard-app.js";
