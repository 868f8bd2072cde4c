/**
 * Headers our TCP gateway sets on its WebSocket upgrade to the Worker: one module, so both sides
 * read the same contract (the gateway imports it too; see src/contracts/index.ts).
 */

/** The device's address, believed only with the shared secret (see client-address.ts). */
export const GATEWAY_ADDRESS_HEADER = "x-mqtt-client-address";
/** Equal to the Worker's GATEWAY_SECRET. */
export const GATEWAY_SECRET_HEADER = "x-mqtt-gateway-secret";
/**
 * "1": the sender answers PINGREQ and enforces the keepalive itself (src/edge/connection.ts), so
 * neither the Worker pipe nor the session object may do it again. It needs no secret: it only
 * loosens the checks of the connection that sends it, as a keepalive of 0 would.
 */
export const EDGE_KEEPALIVE_HEADER = "x-mqtt-edge-keepalive";
