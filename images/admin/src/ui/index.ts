export { createUiRouter, UI_PAGES, type UiRouter, type UiRouterOptions } from './ui.router';
