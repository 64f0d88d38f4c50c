/*
    fiber-mqtt/mqtt: the MQTT 3.1.1 and 5.0 codecs, topics and (with the client) Ioto's mqtt* API.
 */
export * from './constants.js'
export * from './codec/index.js'
export * from './codec/index5.js'
export * from './topic.js'
export { parseMqttUrl, maskUrl, isUrl, MqttUrlError, type MqttUrl } from './url.js'
export { TopicIndex, TopicEntry } from './topic-index.js'
export * from './client/index.js'
