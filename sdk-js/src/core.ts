/** numu.core.js: page views, custom events, consent, transport. */
import { boot } from './boot';

boot([]);
