// The operator's console (placeholder until the page is built).
document.getElementById("app")!.textContent = "edge-mqtt-broker: the operator console is being built.";
