// The browser MQTT client at /: every browser a first-class MQTT client of this broker.
import "./components/mqtt-app.js";
