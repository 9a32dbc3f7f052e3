// For svelte-check and the staff app build (vite.app.config.ts): TypeScript in components.
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

export default {
  preprocess: vitePreprocess(),
};
