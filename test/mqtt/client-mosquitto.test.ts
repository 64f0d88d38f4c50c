import test from 'ava'
import { mosquittoPath, startMosquitto } from '../../brokers/broker.js'
import { brokerSuite } from './suite.js'
import { quietLogs } from '../helpers/quiet.js'

quietLogs(test)

if (mosquittoPath() === null) {
    /* CI installs mosquitto (.ci/run); without it this file fails rather than silently testing less */
    test('mosquitto is installed', t => {
        t.fail('mosquitto is not installed: apt-get install -y mosquitto')
    })
} else {
    brokerSuite(test, startMosquitto)
}
