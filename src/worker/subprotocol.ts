/** WebSocket subprotocol negotiation for MQTT (MQTT §6: "mqtt"; older clients offer "mqttv3.1"). */

export const MQTT_SUBPROTOCOLS = ["mqtt", "mqttv3.1"] as const;

/** The one subprotocol to answer with, or null when the client offered none of ours. */
export function chooseSubprotocol(header: string | null): string | null {
  if (!header) return null;
  const offered = header.split(",").map((p) => p.trim().toLowerCase());
  return MQTT_SUBPROTOCOLS.find((p) => offered.includes(p)) ?? null;
}
