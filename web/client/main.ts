// The browser MQTT client (placeholder until the page is built).
document.getElementById("app")!.textContent = "edge-mqtt-broker: the client page is being built.";
