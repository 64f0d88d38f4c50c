/*
    A Mongoose OS device app, unchanged in shape: its "mqtt" configuration section (with a backup server in
    "mqtt1"), the mgos_mqtt_* C API and the mJS MQTT object, on the agent. The button of the library page's
    example is a timer here. Runs a few seconds on the embedded broker (or MQTT_BROKER=host:port).

        node dist/examples/mongoose.js
 */
import {
    MQTT, mgos_mqtt_global_is_connected, mgos_mqtt_init, mgos_mqtt_num_unsent_bytes, mgos_mqtt_pub, mgos_mqtt_pubf,
    mgos_mqtt_set_max_qos, mgos_mqtt_sub, mgos_mqtt_agent, ioAgentStop, rInfo, rInit, rServiceEvents, rSleep, rStop,
    rTerm, type Fiber,
} from '../index.js'
import { endpoint } from './lib/endpoint.js'

const broker = await endpoint()
const print = (...args: unknown[]) => rInfo('mJS', '%s', args.join(' '))

function* main(): Fiber<void> {
    /* mos.yml's mqtt section, as JSON; the backup server is never needed here */
    mgos_mqtt_init({
        mqtt: { enable: true, server: `${broker.host}:${broker.port}`, client_id: 'mongoose-dev', clean_session: true, keep_alive: 60,
            reconnect_timeout_min: 2, reconnect_timeout_max: 60, will_topic: 'devices/mongoose-dev/status', will_message: 'offline' },
        mqtt1: { enable: true, server: `${broker.host}:${broker.port}` },
    })
    MQTT.setEventHandler((conn, ev, edata) => {
        if (ev !== 0) print('MQTT event handler: got', ev)
    }, null)
    MQTT.sub('my/topic/#', (conn, topic, msg) => {
        print('Topic:', topic, 'message:', msg)
    }, null)
    mgos_mqtt_sub('devices/mongoose-dev/cmd', (_nc, topic, _tl, msg) => { rInfo('C', 'command on %s: %s', topic, msg) }, null)
    while (!mgos_mqtt_global_is_connected()) {
        yield* rSleep(10)
    }
    /* The page's button example: on each press, publish with QoS 1 */
    for (let press = 0; press < 2; press++) {
        yield* rSleep(100)
        const res = MQTT.pub('my/topic', JSON.stringify({ a: 1, b: 2 }), 1)
        print('Published:', res ? 'yes' : 'no')
    }
    mgos_mqtt_pub('devices/mongoose-dev/cmd', 'reboot', 6, 1, false)
    /* AWS Greengrass accepts QoS 0 only: downgrade transparently */
    mgos_mqtt_set_max_qos(0)
    const id = mgos_mqtt_pubf('my/topic/state', 1, false, '{temp: %.1f, on: %B, name: %Q}', 21.5, true, 'kitchen')
    rInfo('C', 'pubf packet id %d, unsent bytes %d', id, mgos_mqtt_num_unsent_bytes())
    yield* rSleep(300)
    yield* ioAgentStop(mgos_mqtt_agent()!)
    rStop()
}

rInit(main, null)
await rServiceEvents()
rTerm()
await broker.stop()
