/*
    The MQTT client with Ioto's API.
 */
export {
    Mqtt, MqttRecv, MqttResp, MqttTopic, MQTT_WAIT_NONE, MQTT_WAIT_SENT, MQTT_WAIT_ACK, MQTT_WAIT_FAST,
    MQTT_EVENT_ATTACH, MQTT_EVENT_CONNECTED, MQTT_EVENT_DISCONNECT, MQTT_EVENT_TIMEOUT, MQTT_UNSENT,
    MQTT_AWAITING_ACK, MQTT_COMPLETE, MQTT_INLINE_BUF_SIZE, MQTT_BUF_SIZE, MQTT_KEEP_ALIVE, MQTT_TIMEOUT,
    MQTT_MSG_TIMEOUT, MQTT_MAX_TOPIC_SIZE, MQTT_MAX_MESSAGE_SIZE, MQTT_MAX_CLIENT_ID_SIZE, MQTT_MAX_USERNAME_SIZE,
    MQTT_MAX_PASSWORD_SIZE, MQTT_MAX_INFLIGHT, MQTT_MAX_QUEUE, MQTT_MAX_QUEUE_BYTES, MQTT_CONNECT_TIMEOUT,
    MQTT_MAX_INBOUND_SIZE, MQTT_MAX_HANDLERS, MQTT_MAX_HELD, MQTT_LIMITS_SPEC, MQTT_LIMITS_IOTO,
    MQTT_MAX_SUBSCRIBE_FILTERS, type MqttLimits, type SubscribeOptions, type MqttAuthProc,
    type MqttCallback, type MqttEventProc, type QueuePolicy,
} from './state.js'
export { mqttAlloc, mqttConnect, mqttDisconnect, mqttDisconnectEx, mqttFree, MQTT_DISCONNECT_TIMEOUT } from './connect.js'
export { mqttReauthenticate } from './auth.js'
export { mqttSetProtocol } from './protocol5.js'
export { mqttConnectUrl } from './connect-url.js'
export {
    mqttGetError, mqttGetLastActivity, mqttMsgsToSend, mqttIsConnected, mqttSetCredentials, mqttSetMessageSize,
    mqttSetWill, mqttSetKeepAlive, mqttSetTimeout, mqttSetInflight, mqttSetCoalesce, mqttSetQueue, mqttThrottle, mqttCheckQueue,
    mqttGetStats, mqttSetLimits, mqttSetConnectTimeout, mqttSetKeepWaits, mqttGetConnackCode, mqttGetConnackProperties, mqttSetAuth, type MqttStats,
} from './settings.js'
export { mqttOnMessage, mqttSetDelivery } from './dispatch.js'
export { mqttPublish, mqttPublishRetained, mqttPublishEx, mqttPing } from './publish.js'
export {
    mqttSubscribe, mqttSubscribeMaster, mqttUnsubscribe, mqttUnsubscribeMaster, mqttSubscribeMulti, mqttUnsubscribeMulti,
    mqttGetGranted, mqttSubscribeMasterMulti, type MqttSubscription,
} from './subscribe.js'
export { mqttRequest } from './request.js'
export { mqttSubscribeEx, mqttUnsubscribeEx } from './subscribe5.js'
