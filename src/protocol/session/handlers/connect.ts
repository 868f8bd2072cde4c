/** CONNECT (MQTT §3.1): validate, take over or resume the session, answer CONNACK. */
import type { IConnackPacket, IConnectPacket } from "mqtt-packet";
import type { Action } from "../../actions.js";
import type { ProtocolVersion } from "../../codec/codec.js";
import { ProtocolError, Reason, type ReasonCode } from "../../errors.js";
import type { QoS } from "../../message.js";
import { beyondTopicLimits, hasControlCharacter, isValidTopicName, utf8Length } from "../../topic/validate.js";
import { type AuthVerdict, JWT_AUTH_METHOD } from "../auth-verdict.js";
import { messageProperties } from "./properties.js";
import { close, send, type Session } from "../session.js";
import { NEVER_EXPIRES, newSessionRecord, sessionExpired, type ConnectionState, type Will } from "../state.js";
import { connack, fitConnack, fitsMaximum } from "../wire.js";

/** Longest user name accepted, in UTF-8 bytes. */
export const MAX_USERNAME_BYTES = 1024;

/** What the Worker told the session object about the connection it routed here. */
export interface ConnectRoute {
  /** The client id this object serves (its Durable Object name). */
  clientId: string;
  /** True when the Worker chose `clientId` because the CONNECT carried an empty one. */
  assigned: boolean;
  /** The client's network address, for logs (from the gateway when it is trusted). */
  address?: string;
  /**
   * True when an edge in front (the Worker pipe, the TCP gateway) answers PINGREQ and enforces the
   * keepalive itself: PINGREQs no longer reach this object, so it must not time the client out.
   */
  edgeKeepalive?: boolean;
}

export function handleConnect(s: Session, connId: string, route: ConnectRoute, packet: IConnectPacket, now: number, verdict: AuthVerdict): Action[] {
  const version = (packet.protocolVersion ?? 4) as ProtocolVersion;
  const v5 = version === 5;
  const props = packet.properties ?? {};
  const cleanStart = packet.clean !== false;
  const config = s.config;
  // A refusal fits the client's Maximum Packet Size too [MQTT-3.1.2-24].
  const refuse = (reason: ReasonCode, why: string) => reject(connId, version, reason, why, v5 ? props.maximumPacketSize : undefined);

  // Validate the client id: an empty one needs CleanSession=1 in 3.1.1 [MQTT-3.1.3-8]; the
  // server then assigns one [MQTT-3.1.3-6] (5.0 allows it with any Clean Start [MQTT-3.1.3-6]).
  let clientId = packet.clientId ?? "";
  const assigned = clientId === "";
  if (assigned) {
    if (!v5 && !cleanStart) return refuse(Reason.ClientIdentifierNotValid, "empty client id with CleanSession=0");
    if (!route.assigned) return refuse(Reason.ClientIdentifierNotValid, "empty client id was not routed for assignment");
    clientId = route.clientId;
  } else if (utf8Length(clientId) > config.maxClientIdBytes) {
    // The server may refuse ids it does not like (§3.1.3.1): an id becomes storage keys.
    return refuse(Reason.ClientIdentifierNotValid, `client id longer than ${config.maxClientIdBytes} bytes (MAX_CLIENT_ID_LENGTH)`);
  } else if (hasControlCharacter(clientId)) {
    // Control characters have no place in an id, and must never look like an internal key (review F1).
    return refuse(Reason.ClientIdentifierNotValid, "client id contains control characters");
  } else if (clientId !== route.clientId) {
    // The connection was routed to this object for another id (a wrong ?clientId= hint).
    return refuse(Reason.ClientIdentifierNotValid, `client id ${clientId} does not match the route`);
  }
  // Enhanced authentication: only "JWT" (a token in Authentication Data, renewable with AUTH) [MQTT-4.12.0-1].
  if (v5 && props.authenticationMethod !== undefined && props.authenticationMethod !== JWT_AUTH_METHOD) {
    return refuse(Reason.BadAuthenticationMethod, `authentication method ${props.authenticationMethod} is not supported (only ${JWT_AUTH_METHOD})`);
  }
  // A user name rides in the socket attachment (16 KiB in all) with the client id and a token.
  if (packet.username !== undefined && utf8Length(packet.username) > MAX_USERNAME_BYTES) {
    return refuse(Reason.BadUserNameOrPassword, `user name longer than ${MAX_USERNAME_BYTES} bytes`);
  }
  // Credentials, judged by the shell, before anything else: a refused CONNECT takes nothing over.
  if (!verdict.ok) {
    return [{ type: "log", level: "warn", message: verdict.log, counter: "connects_refused_auth" }, ...refuse(verdict.reason, "not authorized")];
  }
  if (packet.will) {
    if (!isValidTopicName(packet.will.topic)) throw new ProtocolError(Reason.TopicNameInvalid, `invalid will topic ${JSON.stringify(packet.will.topic)}`);
    const beyond = beyondTopicLimits(packet.will.topic, config);
    if (beyond !== null) return refuse(Reason.TopicNameInvalid, `will topic ${beyond}`);
    if (v5 && (packet.will.qos ?? 0) > config.maximumQoS) return refuse(Reason.QosNotSupported, `will QoS ${packet.will.qos} above the maximum ${config.maximumQoS}`);
    if (v5 && packet.will.retain && !config.retainAvailable) return refuse(Reason.RetainNotSupported, "retained wills are not available");
    // A will is a publish the client may make later: its topic needs the right to write there.
    if (!verdict.rights.check("write", packet.will.topic)) {
      return [
        { type: "log", level: "warn", message: `${clientId}: will topic ${packet.will.topic} refused (ACL)`, counter: "connects_refused_will_acl" },
        ...refuse(Reason.NotAuthorized, "not authorized to publish the will topic"),
      ];
    }
  }
  // A Receive Maximum or Maximum Packet Size of 0 is a protocol error (MQTT 5 §3.1.2.11.3, §3.1.2.11.4).
  if (v5 && props.receiveMaximum === 0) throw new ProtocolError(Reason.ProtocolError, "Receive Maximum of 0");
  if (v5 && props.maximumPacketSize === 0) throw new ProtocolError(Reason.ProtocolError, "Maximum Packet Size of 0");

  // Clean Start discards any session [MQTT-3.1.2-4]; otherwise it is resumed [MQTT-3.1.2-5].
  const requested = v5 ? (props.sessionExpiryInterval ?? 0) : cleanStart ? 0 : NEVER_EXPIRES;
  // MAX_SESSION_EXPIRY caps it (review F16); an MQTT 5 client is told in CONNACK (§3.2.2.3.2).
  const expiry = Math.min(requested, config.maxSessionExpiry);
  // Server Keep Alive: the broker may lower an MQTT 5 client's keepalive [MQTT-3.2.2-21].
  let keepalive = packet.keepalive ?? 0;
  let serverKeepAlive: number | undefined;
  if (v5 && config.maxKeepalive > 0 && (keepalive === 0 || keepalive > config.maxKeepalive)) {
    keepalive = serverKeepAlive = config.maxKeepalive;
  }
  const properties = v5
    ? connackProperties(s, clientId, assigned, serverKeepAlive, props.requestResponseInformation === true, expiry < requested ? expiry : undefined, props.authenticationMethod)
    : undefined;
  // The CONNACK must fit the client's Maximum Packet Size [MQTT-3.1.2-24]. What fitConnack cannot
  // leave out (the Assigned Client Identifier [MQTT-3.2.2-16], limits and values the client must
  // use) is needed to go on, so without room for it the connection is refused before anything is
  // taken over: no other reason code applies, so 0x80 Unspecified error (§3.2.2.2).
  if (v5 && !fitsMaximum(fitConnack(connack(version, Reason.Success, true, properties), props.maximumPacketSize), props.maximumPacketSize)) {
    return refuse(Reason.UnspecifiedError, `the CONNACK does not fit the Maximum Packet Size of ${props.maximumPacketSize} bytes`);
  }

  const actions: Action[] = [];
  if (s.current) {
    // Two tabs or devices with one client id take the session from each other for ever: past
    // MAX_TAKEOVERS_PER_MINUTE the newcomer is refused, and the live connection keeps it.
    if (!s.takeovers.allow(now, config.maxTakeoversPerMinute)) {
      return [
        {
          type: "log",
          level: "warn",
          message: `client id ${clientId} was taken over more than ${config.maxTakeoversPerMinute} times in a minute (MAX_TAKEOVERS_PER_MINUTE): refusing further takeovers for now; each device or tab needs its own client id`,
          counter: "takeovers_refused",
        },
        ...refuse(Reason.ConnectionRateExceeded, `client id taken over more than ${config.maxTakeoversPerMinute} times in a minute; retry later or use another client id`),
      ];
    }
    // Take over: the existing connection of this client id is closed [MQTT-3.1.4-2] with 0x8E.
    actions.push(...s.fail(s.current.connId, Reason.SessionTakenOver, "session taken over", now));
  }

  // A new connection for the client id before the Will Delay Interval passed cancels the delayed
  // will, whatever Clean Start says, before a Clean Start discards the session (which would
  // publish it) [MQTT-3.1.2-8], [MQTT-3.1.3-9]. One whose delay passed is due: the discard or the
  // expiry below still publishes it.
  if (s.record?.delayedWill && now < s.record.delayedWill.at) delete s.record.delayedWill;

  // A session whose expiry passed while nobody was looking is gone, queued messages included.
  if (sessionExpired(s.record, now)) actions.push(...s.discard(now));

  // Apply: Clean Start discards any session [MQTT-3.1.2-4]; otherwise it is resumed [MQTT-3.1.2-5].
  let sessionPresent = false;
  if (cleanStart && s.record) actions.push(...s.discard(now));
  if (s.record) {
    sessionPresent = true;
    s.record.expiryInterval = expiry;
    delete s.record.expiresAt;
    // Resumed: a will still pending is cancelled as well [MQTT-3.1.3-9] (one whose delay passed
    // but whose timer has not run yet too, as before).
    delete s.record.delayedWill;
  } else {
    s.record = newSessionRecord(clientId, expiry);
  }
  s.saveRecord();
  // (Rows are written only when something changes: a connect should cost one commit, one row.)
  if (packet.will) s.store.writeWill(willOf(packet.will, clientId, now));
  else if (s.store.readWill()) s.store.writeWill(undefined);
  // Topic aliases live as long as the connection [MQTT-3.3.2-7].
  const hadAliases = Object.keys(s.aliases.inbound).length > 0 || Object.keys(s.aliases.outbound).length > 0;
  s.aliases = { inbound: {}, outbound: {} };
  if (hadAliases) s.saveAliases();

  const conn: ConnectionState = {
    connId,
    clientId,
    version,
    keepalive,
    lastSeen: now,
    receiveMaximum: props.receiveMaximum ?? 65535,
    topicAliasMaximum: v5 ? (props.topicAliasMaximum ?? 0) : 0,
    problemInformation: props.requestProblemInformation !== false,
    connectExpiry: expiry,
    connectedAt: now,
    auth: { ...verdict.auth, ...(props.authenticationMethod !== undefined ? { method: props.authenticationMethod } : {}) },
    // The keepalive is enforced here unless the edge in front does it [MQTT-3.1.2-24] / [MQTT-3.1.2-22].
    ...(keepalive > 0 && !route.edgeKeepalive ? { keepaliveCheckAt: now + keepalive * 1500 } : {}),
    ...(props.maximumPacketSize !== undefined ? { maximumPacketSize: props.maximumPacketSize } : {}),
  };
  s.current = conn;
  s.rights = verdict.rights;
  // Shards that held back QoS 0 messages while the client was away send them again.
  for (const shard of s.muted.takeAll()) actions.push({ type: "online", shard, clientId });

  // Acknowledge: CONNACK first [MQTT-3.2.0-1]; session present per [MQTT-3.2.2-2] / [MQTT-3.2.2-3].
  actions.push(send(conn, connack(version, Reason.Success, sessionPresent, properties)));
  actions.push(...s.resume(conn, now));
  return actions;
}

/** Unknown protocol name or level: CONNACK 0x01 (3.1.1 form), then close [MQTT-3.1.2-2]. */
handleConnect.unacceptable = (connId: string, detail: string): Action[] => reject(connId, 4, Reason.UnsupportedProtocolVersion, `unacceptable protocol ${detail}`);

/**
 * A CONNECT that broke a rule of its format (validate.ts): MQTT 5 is told why with CONNACK 0x81
 * Malformed Packet or 0x82 Protocol Error, which the server MAY send ([MQTT-3.1.4-1], §4.13.1);
 * 3.1.1 closes without CONNACK [MQTT-3.1.4-1].
 */
handleConnect.invalid = (connId: string, version: ProtocolVersion, reason: ReasonCode, why: string, maximumPacketSize?: number): Action[] =>
  version === 5 ? reject(connId, 5, reason, why, maximumPacketSize) : [close(connId, why, true)];

/** What the broker offers, as configured (MQTT 5 §3.2.2.3). */
function connackProperties(
  s: Session,
  clientId: string,
  assigned: boolean,
  serverKeepAlive: number | undefined,
  wantsResponseInfo: boolean,
  cappedExpiry: number | undefined,
  authMethod: string | undefined,
): IConnackPacket["properties"] {
  const c = s.config;
  const p: NonNullable<IConnackPacket["properties"]> = {
    receiveMaximum: c.receiveMaximum,
    maximumPacketSize: c.maxPacketSize,
    topicAliasMaximum: c.topicAliasMaximum,
    retainAvailable: c.retainAvailable,
    wildcardSubscriptionAvailable: c.wildcardSubscriptions,
    subscriptionIdentifiersAvailable: c.subscriptionIdentifiers,
    sharedSubscriptionAvailable: c.sharedSubscriptions,
  };
  if (c.maximumQoS < 2) p.maximumQoS = c.maximumQoS;
  // The assigned id is told to the client [MQTT-3.2.2-16].
  if (assigned) p.assignedClientIdentifier = clientId;
  if (serverKeepAlive !== undefined) p.serverKeepAlive = serverKeepAlive;
  if (cappedExpiry !== undefined) p.sessionExpiryInterval = cappedExpiry;
  // The method of an enhanced authentication that succeeded is named back (MQTT 5 §3.2.2.3.17).
  if (authMethod !== undefined) p.authenticationMethod = authMethod;
  if (wantsResponseInfo && c.responseInformation !== "") p.responseInformation = `${c.responseInformation}${clientId}`;
  return p;
}

function reject(connId: string, version: ProtocolVersion, reason: ReasonCode, why: string, maximumPacketSize?: number): Action[] {
  // A CONNACK with a failure code is followed by closing the connection [MQTT-3.2.2-5] / [MQTT-3.2.2-7].
  const packet = connack(version, reason, false, version === 5 ? { reasonString: why } : undefined);
  const fitted = version === 5 ? fitConnack(packet, maximumPacketSize) : packet;
  // Not even a bare CONNACK fits a Maximum Packet Size this small: nothing may be sent [MQTT-3.1.2-24].
  if (!fitsMaximum(fitted, maximumPacketSize)) return [close(connId, `${why} (and no CONNACK fits the Maximum Packet Size of ${maximumPacketSize} bytes)`, true)];
  return [{ type: "send", connId, version, packet: fitted }, close(connId, why, true)];
}

function willOf(will: NonNullable<IConnectPacket["will"]>, origin: string, _now: number): Will {
  const payload = typeof will.payload === "string" ? new TextEncoder().encode(will.payload) : new Uint8Array(will.payload);
  const props = will.properties ?? {};
  const properties = messageProperties(props);
  return {
    message: { topic: will.topic, payload, qos: will.qos as QoS, retain: will.retain === true, origin, ...(properties ? { properties } : {}) },
    delay: props.willDelayInterval ?? 0,
    ...(props.messageExpiryInterval !== undefined ? { expiryInterval: props.messageExpiryInterval } : {}),
  };
}
