// Translator entry point: telemetry first, then the service.
import { bootService } from '@greeter/shared/telemetry';
import pkg from '../package.json';

bootService({ serviceName: 'translator', serviceVersion: pkg.version }, () => require('./server') as typeof import('./server'));
