// The dashboard's entry point: styles, link handling, the live stream, and the app.
import { render } from 'preact';
import './styles.css';
import { App } from './app.js';
import { startLive } from './lib/live.js';
import { interceptLinks } from './lib/router.js';

interceptLinks();
startLive();
render(<App />, document.getElementById('app')!);
