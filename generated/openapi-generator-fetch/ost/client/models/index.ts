/* tslint:disable */
/* eslint-disable */
export * from './Balance.js';
export * from './ExecuteTransactionRequestMetaProperty.js';
export * from './GetDailyReport200Response.js';
