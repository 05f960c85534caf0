// Single-page app like Open WebUI: no server-side rendering.
export const ssr = false;
export const prerender = false;
