/**
 * The staff web app's entry: pick the message catalogue, set the page's
 * language and direction from it, and mount the app.
 */
import { mount } from 'svelte';
import App from './App.svelte';
import { loadMessages } from './i18n/index.js';
import './app.css';

const messages = loadMessages(navigator.languages ?? [navigator.language]);
document.documentElement.lang = messages.lang;
document.documentElement.dir = messages.dir;
document.title = messages.t('app.title');

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');
target.replaceChildren();
mount(App, { target, props: { messages } });
